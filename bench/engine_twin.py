"""PyTorch twin of the reference MoE training step (src/engine/referenceMoe.ts), for bench/engine.

Same computation: X = X0·W_in; p = softmax(X·W_g); top-4 of 16 experts, gates renormalised over
the kept 4; experts GELU(x·W1_e + b1_e)·W2_e + b2_e (128→512→128, exact erf GELU or
x·σ(1.702x)); sparse dispatch (tokens sorted by expert, each expert on its own rows, gathered
back); loss mean((out − Y)²); Adam lr 1e-3. Median of --steps steps after one warm-up.

A benchmark only (never run by the library or the tests). Prints one line:
  RESULT {"median": ms, "times": [...], "threads": n, "torch": version, "core": ...}

  python3 bench/engine_twin.py --tokens 6144 --threads 2 --steps 5 --gelu erf
"""
import argparse
import json
import time

import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=6144)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--gelu", choices=["erf", "sigmoid"], default="erf")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    n, d, h, e, k = a.tokens, 128, 512, 16, 4
    x0 = torch.randn(n, d)
    y = torch.randn(n, d)
    w_in = (torch.randn(d, d) / d**0.5).requires_grad_()
    w_g = (torch.randn(d, e) / d**0.5).requires_grad_()
    w1 = (torch.randn(e, d, h) / d**0.5).requires_grad_()
    b1 = torch.zeros(e, h, requires_grad=True)
    w2 = (torch.randn(e, h, d) / h**0.5).requires_grad_()
    b2 = torch.zeros(e, d, requires_grad=True)
    params = [w_in, w_g, w1, b1, w2, b2]
    opt = torch.optim.Adam(params, lr=1e-3)

    def gelu(t: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.gelu(t) if a.gelu == "erf" else t * torch.sigmoid(1.702 * t)

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        x = x0 @ w_in
        p = torch.softmax(x @ w_g, dim=1)
        top = torch.topk(p, k, dim=1).indices  # [n, k]
        p_top = torch.gather(p, 1, top)
        g = p_top / p_top.sum(1, keepdim=True)  # [n, k]
        flat = top.reshape(-1)
        order = torch.argsort(flat, stable=True)  # sorted position -> assignment
        tok = order // k
        counts = torch.bincount(flat, minlength=e).tolist()
        xs = x.index_select(0, tok)
        pieces = []
        for i, part in enumerate(torch.split(xs, counts)):
            if counts[i] == 0:
                continue
            pieces.append(gelu(part @ w1[i] + b1[i]) @ w2[i] + b2[i])
        ys = torch.cat(pieces, 0)
        y_assign = torch.empty_like(ys)
        y_assign[order] = ys  # back to assignment order (n·k + slot)
        out = (y_assign.reshape(n, k, d) * g.unsqueeze(2)).sum(1)
        loss = ((out - y) ** 2).mean()
        loss.backward()
        opt.step()
        return float(loss)

    step()
    times = []
    cpu = []
    for _ in range(a.steps):
        t = time.perf_counter()
        c = time.process_time()
        step()
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    s = sorted(times)
    m = len(s) // 2
    median = s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2
    core = torch.__config__.show().split("\n")
    blas = next((l.strip() for l in core if "BLAS_INFO" in l), "")
    cs = sorted(cpu)
    cpu_median = cs[m] if len(cs) % 2 else (cs[m - 1] + cs[m]) / 2
    print("RESULT " + json.dumps({"median": median, "cpuMedian": cpu_median, "cpuTimes": cpu, "times": times, "threads": torch.get_num_threads(), "torch": torch.__version__, "blas": blas}))


if __name__ == "__main__":
    main()
