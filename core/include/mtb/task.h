/* task.h: what defines one task of a multi-task problem: its loss, its head width
 * and where its targets sit in the target matrix. Shared by datasets and models. */
#ifndef MTB_TASK_H
#define MTB_TASK_H

typedef enum mtb_loss_kind {
    MTB_LOSS_MSE = 0, /* mean over batch and outputs of (yhat - y)^2 */
    MTB_LOSS_L1 = 1,  /* mean over batch and outputs of |yhat - y| */
    MTB_LOSS_BCE = 2, /* binary cross-entropy with logits, multi-label; optional per-output
                         positive-class weights */
    MTB_LOSS_CE = 3   /* softmax cross-entropy over out_width classes; target is a class
                         index (as a float), -1 = unlabelled (ignored); optional per-class
                         weights, weighted mean as PyTorch's CrossEntropyLoss */
} mtb_loss_kind;

#define MTB_TASK_MAX_CLASS_WEIGHTS 16

typedef struct mtb_task_spec {
    mtb_loss_kind loss;
    int out_width;       /* head outputs (logits for BCE and CE) */
    int target_width;    /* target columns: out_width for MSE, L1, BCE; 1 for CE */
    int target_offset;   /* first column of this task in the target matrix */
    double sigma;        /* target scale for the normalised loss (MTRRegression's sigma_i); 1 if none */
    int n_class_weights; /* 0 = unweighted; CE: out_width; BCE: 2 (negative, positive) */
    double class_weights[MTB_TASK_MAX_CLASS_WEIGHTS];
} mtb_task_spec;

const char *mtb_loss_name(mtb_loss_kind k);          /* "mse", "l1", "bce", "ce" */
int mtb_loss_from_name(const char *name, mtb_loss_kind *k); /* 0 on success, -1 unknown */

#endif
