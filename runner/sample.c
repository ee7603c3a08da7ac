/* sample.c - whole answers kept during a phase for a rule the bytes alone cannot
 * judge (the database payloads, issue 24): a few, spread evenly over the measured
 * window, in memory allocated before the phase; checked by run_opts.check after it. */
#include "engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int run__sample_init(struct worker *w, struct err *e)
{
    const struct run_opts *o = w->sh->o;
    w->smp_due = UINT64_MAX;
    if (!o->check)
        return 0;
    struct sampler *sp = &w->smp;
    int most = o->sample_max > 0 ? o->sample_max : RUN_SAMPLE_MAX;
    size_t bytes = o->sample_bytes > 0 ? o->sample_bytes : RUN_SAMPLE_BYTES;
    /* The phase's share of each worker, even (the sample halves when full), 2 at least. */
    uint32_t m = (uint32_t)((most + w->sh->nworkers - 1) / w->sh->nworkers);
    m = m < 2 ? 2 : (m + 1) & ~1u;
    sp->s = calloc(m + 1, sizeof(*sp->s));
    sp->data = malloc((size_t)(m + 1) * bytes);
    sp->kept = calloc(m, sizeof(*sp->kept));
    sp->spare = calloc(m + 1, sizeof(*sp->spare));
    if (!sp->s || !sp->data || !sp->kept || !sp->spare) {
        run__sample_free(w);
        return err_set(e, -ENOMEM, "out of memory for %u sampled answers of %zu bytes", m, bytes);
    }
    for (uint32_t i = 0; i <= m; i++) {
        sp->s[i].c.data = sp->data + (size_t)i * bytes;
        sp->s[i].c.cap = bytes;
    }
    for (uint32_t i = 0; i < m; i++)
        sp->spare[sp->nspare++] = i;
    sp->m = m;
    sp->slot = m;
    sp->stride = 1;
    w->smp_due = 0;
    return 0;
}

void run__sample_free(struct worker *w)
{
    struct sampler *sp = &w->smp;
    free(sp->s);
    free(sp->data);
    free(sp->kept);
    free(sp->spare);
    memset(sp, 0, sizeof(*sp));
}

void run__sample_arm(struct user *u, uint64_t now)
{
    struct worker *w = u->w;
    struct sampler *sp = &w->smp;
    if (sp->holder && sp->holder->parser.cap)
        return; /* one capture at a time; a holder whose connection closed lost its cap */
    sp->holder = NULL;
    if (!run__in_window(w, now)) {
        w->smp_due = sp->stride;
        return;
    }
    struct http_capture *c = &sp->s[sp->slot].c;
    c->len = 0;
    c->truncated = 0;
    c->ctype[0] = '\0';
    u->parser.cap = c;
    sp->holder = u;
}

void run__sample_done(struct user *u, int status2xx, int ok)
{
    struct worker *w = u->w;
    struct sampler *sp = &w->smp;
    sp->holder = NULL;
    w->smp_due = sp->stride;
    if (!status2xx)
        return; /* a status failure is counted already; its body follows no rule */
    sp->s[sp->slot].ok = (uint8_t)(ok != 0);
    sp->kept[sp->nkept++] = sp->slot;
    if (sp->nkept == sp->m) {
        /* Full: every other answer goes (the 2nd, 4th, ... stay, a stride of twice the
         * old apart), and the stride doubles, so the sample stays spread evenly over
         * the window so far. */
        uint32_t j = 0;
        for (uint32_t i = 0; i < sp->nkept; i++) {
            if (i % 2)
                sp->kept[j++] = sp->kept[i];
            else
                sp->spare[sp->nspare++] = sp->kept[i];
        }
        sp->nkept = j;
        sp->stride *= 2;
        w->smp_due = sp->stride;
    }
    sp->slot = sp->spare[--sp->nspare];
}

void run__sample_verify(const struct shared *sh, struct worker **ws, int nw, struct run_report *out)
{
    const struct run_opts *o = sh->o;
    struct phase_result *res = &out->result;
    if (!o->check)
        return;
    for (int i = 0; i < nw; i++) {
        const struct sampler *sp = &ws[i]->smp;
        for (uint32_t k = 0; k < sp->nkept; k++) {
            const struct sample_slot *s = &sp->s[sp->kept[k]];
            if (s->c.truncated)
                continue; /* longer than sample_bytes: not judged */
            char why[sizeof out->wrong_why];
            why[0] = '\0';
            res->verified_sampled++;
            if (o->check(o->check_arg, s->c.data, s->c.len, s->c.ctype, why, sizeof why) == 0)
                continue;
            if (res->verified_wrong++ == 0)
                mf_strlcpy(out->wrong_why, why[0] ? why : "wrong", sizeof out->wrong_why);
            if (!s->ok)
                continue; /* already a body failure (its length) */
            res->failures_by_kind[FAIL_BODY]++;
            res->failures++;
            if (res->duration_s > 0) {
                res->rps -= 1.0 / res->duration_s;
                if (res->rps < 0)
                    res->rps = 0;
            }
        }
    }
}
