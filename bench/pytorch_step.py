#!/usr/bin/env python3
"""The training step of `mtb bench step --shape mtr` written in PyTorch, for comparison.

Same model (250 -> 4 x 100 tanh -> T heads of 100, MSE), batch, clipping (0.5) and Adam
(lr 7e-4, eps 1e-5). --grads none: one backward of the sum of the losses (EW).
--grads param: the T per-task gradients w.r.t. every shared parameter, one autograd.grad
call per task as LibMTL does (retain_graph), stacked into a (T, P) matrix, then the
trunk gradient G^T w and the heads' gradients as in mtb. Prints the same last line as
mtb's benchmark: ms_per_step=<median>.

Needs Debian's python3-torch (not a dependency of mtb itself):
    /usr/bin/python3 bench/pytorch_step.py --tasks 10 --grads none --threads 1
"""
import argparse
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--batch", type=int, default=304)
    ap.add_argument("--grads", choices=["none", "param"], default="none")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    T, B = a.tasks, a.batch
    layers = []
    d = 250
    for _ in range(4):
        layers += [torch.nn.Linear(d, 100), torch.nn.Tanh()]
        d = 100
    trunk = torch.nn.Sequential(*layers)
    heads = torch.nn.ModuleList([torch.nn.Linear(100, 100) for _ in range(T)])
    params = list(trunk.parameters()) + list(heads.parameters())
    shared = list(trunk.parameters())
    opt = torch.optim.Adam(params, lr=7e-4, eps=1e-5)
    x = 0.01 * torch.randn(B, 250)
    y = torch.randn(B, T, 100)

    def step():
        opt.zero_grad(set_to_none=False)
        z = trunk(x)
        losses = [torch.nn.functional.mse_loss(heads[t](z), y[:, t]) for t in range(T)]
        if a.grads == "none":
            sum(losses).backward()
        else:
            rows = []
            for t in range(T):
                g = torch.autograd.grad(losses[t], shared, retain_graph=True)
                rows.append(torch.cat([gi.reshape(-1) for gi in g]))
            G = torch.stack(rows)                       # (T, P)
            w = torch.ones(T)
            trunk_grad = G.t() @ w
            # heads: each head's own loss (they do not depend on other tasks)
            head_loss = sum(losses)
            hg = torch.autograd.grad(head_loss, list(heads.parameters()))
            for p, g in zip(heads.parameters(), hg):
                p.grad.copy_(g)
            off = 0
            for p in shared:
                n = p.numel()
                p.grad.copy_(trunk_grad[off:off + n].view_as(p))
                off += n
        torch.nn.utils.clip_grad_norm_(params, 0.5)
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
    print(f"torch={torch.__version__} tasks={T} batch={B} grads={a.grads} threads={a.threads}")
    print(f"ms_per_step={statistics.median(ms):.3f}")


if __name__ == "__main__":
    main()
