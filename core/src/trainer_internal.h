/* trainer_internal.h: the trainer's state, shared by trainer.c (the step) and
 * trainer_gram.c (the Gram path). Not a public header: nothing outside core/src includes it. */
#ifndef MTB_TRAINER_INTERNAL_H
#define MTB_TRAINER_INTERNAL_H

#include "mtb/train.h"

struct mtb_trainer {
    mtb_model *m;
    const mtb_task_spec *tasks;
    mtb_balancer *bal;
    mtb_trainer_config cfg;
    mtb_need need;
    mtb_param_scope scope;
    int Bmax, S;
    size_t P_all, P_last, D_max;

    float **act;            /* (n_layers + 1); act[0] is set to the batch input */
    float *yhat, *dy_raw, *dy_w, *dz_stack, *dz_agg, *bp_a, *bp_b, *ones, *Gf;
    double *G, *Zd, *trunk_grad;
    double *losses, *head_w, *trunk_w;
    int n_samples;          /* the balancer's samples per step (1 = ordinary) */
    double *G_s, *L_s;      /* (K, T, P) and (K, T) */
    const double **Gp, **Lp;/* (K) pointers into G_s, L_s */
    int n_blocks;           /* PARAM scope all: parameter tensors of the trunk (balancer.h) */
    size_t *block_off;      /* (n_blocks + 1) column offsets into G, or NULL */
    int wants_after;        /* re-evaluate the losses after the update (FAMO) */
    double *losses_after;   /* (T) */
    double *out_scale, *loss_scale; /* (T) each, or NULL when all 1 (train.h) */
    /* the Gram path (trainer_gram.c): no G, only G G^T accumulated block by block */
    /* 1: many tasks against the batch (direct_jacobian, trainer.c): the dense layers write G
     * in double directly, and the trunk's weighted gradient is one backward pass of the
     * weighted cotangent instead of Gf^T w */
    int direct_G;
    int gram;               /* 1: PARAM gradients of scope all are delivered as gram_M */
    size_t gram_block;      /* mtb_trainer_new_gram's bound, floats per task (0 = default) */
    size_t gram_rows_cap;   /* floats per task of the largest parameter block */
    float *gram_blk_f;      /* (T, gram_rows_cap) one block of every task's gradient */
    double *gram_blk_d;     /* the same block in double, for dsyrk */
    double *gram_M;         /* (T, T) G G^T */

    /* the last task_grads call */
    int B;
    mtb_need cur_need;
    mtb_param_scope cur_scope;
    size_t cur_D;
    int have_dz;

    mtb_optim opt;
    double *learn_m, *learn_v;
    long learn_t;
    double last_flops;
    int skip_zero_heads;    /* mtb_trainer_set_skip_zero_heads (train.h) */
};

/* Forward on the batch, the T losses into tr->losses and their cotangents at z into
 * tr->dz_stack (B, T, dz); records the batch as the last task_grads call at level `need`
 * (trainer.c). */
mtb_status mtb_trainer_cotangents_(mtb_trainer *tr, const float *x, const float *y, size_t ldy,
                                   int B, mtb_need need, mtb_param_scope scope, int with_dz,
                                   mtb_error *err);

/* Sizes the Gram path's buffers in mtb_trainer_new (trainer_gram.c); sets *fail on ENOMEM. */
void mtb_trainer_gram_alloc_(mtb_trainer *tr, int *fail);
void mtb_trainer_gram_free_(mtb_trainer *tr);

#endif
