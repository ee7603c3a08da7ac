/* placeholder until the part lands */ typedef int mf_placeholder_t;
