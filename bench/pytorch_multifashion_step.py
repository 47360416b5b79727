#!/usr/bin/env python3
"""The MultiFashion training step of `repro-multifashion cost` written in PyTorch, for comparison.

Same network (lenet-pmtl of the spec multifashion.md sec. 3: conv 1->10 9x9, ReLU, max-pool 2,
conv 10->20 5x5, ReLU, max-pool 2, flatten, linear 500->50, ReLU; two heads 50->10, softmax CE),
batch 256 of 1 x 36 x 36 inputs uniform in [0, 1), Adam (lr 1e-3), no clipping, PyTorch's
default initialisation. --grads none: one backward of the sum of the two losses (EW).
--grads param: the two per-task gradients w.r.t. every shared parameter, one autograd.grad call
per task (retain_graph, as LibMTL does), stacked into a (T, P) matrix, then the trunk gradient
G^T w and the heads' gradients, as mtb's parameter-level step does. Prints the median
milliseconds per step as the last line: ms_per_step=<median>.

Needs Debian's python3-torch (not a dependency of mtb itself):
    /usr/bin/python3 bench/pytorch_multifashion_step.py --grads none --threads 1
"""
import argparse
import statistics
import time

import torch


def lenet():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 10, 9), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(10, 20, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(500, 50), torch.nn.ReLU())


def param_grads(losses, shared, head_params):
    """Per-task trunk gradients as rows of G (T, P), the trunk gets G^T w (w = 1), the heads
    the gradient of the summed losses (each head depends on its own task only)."""
    G = torch.stack([torch.cat([g.reshape(-1) for g in
                                torch.autograd.grad(loss, shared, retain_graph=True)])
                     for loss in losses])
    trunk = G.t() @ torch.ones(len(losses))
    for p, g in zip(shared, torch.split(trunk, [p.numel() for p in shared])):
        p.grad.copy_(g.view_as(p))
    for p, g in zip(head_params, torch.autograd.grad(sum(losses), head_params)):
        p.grad.copy_(g)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--grads", choices=["none", "param"], default="none")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    T, B = 2, a.batch
    trunk = lenet()
    heads = torch.nn.ModuleList([torch.nn.Linear(50, 10) for _ in range(T)])
    shared = list(trunk.parameters())
    params = shared + list(heads.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    x = torch.rand(B, 1, 36, 36)
    y = torch.randint(0, 10, (B, T))

    def step():
        opt.zero_grad(set_to_none=False)
        z = trunk(x)
        losses = [torch.nn.functional.cross_entropy(heads[t](z), y[:, t]) for t in range(T)]
        if a.grads == "none":
            sum(losses).backward()
        else:
            param_grads(losses, shared, list(heads.parameters()))
        opt.step()

    for p in params:
        p.grad = torch.zeros_like(p)
    for _ in range(3):
        step()
    ms = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        step()
        ms.append(1e3 * (time.perf_counter() - t0))
    print(f"torch={torch.__version__} net=lenet-pmtl batch={B} grads={a.grads} threads={a.threads}")
    print(f"ms_per_step={statistics.median(ms):.3f}")


if __name__ == "__main__":
    main()
