/* config_int.h - what config.c and keys.c share and no other part sees: the type-specific
 * parsers the key table names (each parses one YAML value of its key into base, the
 * scope's struct) and the scalar parser they share with cfg_key_parse. */
#ifndef MFBENCH_CONFIG_INT_H
#define MFBENCH_CONFIG_INT_H

#include "config.h"

int cfg__parse_transport(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                         const char *path, void *base);
int cfg__parse_think(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                     const char *path, void *base);
int cfg__parse_users(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                     const char *path, void *base);
int cfg__parse_stop_when(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                         const char *path, void *base);
int cfg__parse_load_points(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                           const char *path, void *base);
int cfg__parse_slo(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                   const char *key, void *base);
int cfg__parse_held(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                    const char *path, void *base);
int cfg__parse_refine(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                      const char *path, void *base);
int cfg__parse_url_path(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                        const char *path, void *base);
int cfg__parse_body(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                    const char *path, void *base);
int cfg__parse_start(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                     const char *path, void *base);
int cfg__parse_dir(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                   const char *path, void *base);
int cfg__parse_addr_list(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                         const char *path, void *base);
int cfg__parse_str_list(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                        const char *path, void *base);
int cfg__parse_limit_value(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                           const char *path, void *base);
int cfg__parse_body_file(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                         const char *path, void *base);
int cfg__parse_venv(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                    const char *path, void *base);
int cfg__parse_requires_python(struct cfg__ctx *c, const struct cfg_key *k, struct yaml_node_s *v,
                               const char *path, void *base);

/* cfg_key_parse_field, for the loader. */
int cfg__key_parse_at(const struct cfg_key *k, const char *path, const char *text, void *field,
                      char *msg, size_t n);

#endif
