"""Measure the local model's speed: generation and prompt tokens per second.

Starts serve.py (this interpreter, so run it with the venv's python), sends
RUNS chat requests that each generate exactly TOKENS tokens (ignore_eos) from
a short prompt, after one warm-up request, and prints every run and the
medians: llama.cpp's own timings of prompt processing and generation, and
the wall-clock completion tokens per second of the whole request. Extra
arguments go to serve.py (e.g. --threads 1).

    PY="$(bash tests/llmlocal/setup.sh)"; "$PY" tests/llmlocal/bench.py --runs 5 --tokens 128
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

PROMPT = ("Write a short story about a lighthouse keeper who finds a message in a bottle. "
          "Describe the sea, the weather and the keeper's thoughts.")


def chat(base, tokens, seed):
    body = {
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": tokens,
        "ignore_eos": True,
        "seed": seed,
        "cache_prompt": False,
    }
    req = urllib.request.Request(base + "/chat/completions", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    start = time.monotonic()
    with urllib.request.urlopen(req, timeout=600) as resp:
        reply = json.load(resp)
    wall = time.monotonic() - start
    return reply["usage"], reply["timings"], wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=128)
    args, serve_args = ap.parse_known_args()

    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
    server = subprocess.Popen([sys.executable, os.path.join(here, "serve.py"), "--port", "0",
                               "--parent-pid", str(os.getpid())] + serve_args,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        line = server.stdout.readline()
        if "listening on" not in line:
            sys.exit("bench: serve.py did not start: %r" % line)
        base = line.split("listening on ", 1)[1].split()[0]
        chat(base, 16, 0)  # warm-up
        gen, prompt, wall = [], [], []
        for i in range(args.runs):
            usage, t, secs = chat(base, args.tokens, i + 1)
            gen.append(t["predicted_per_second"])
            prompt.append(t["prompt_per_second"])
            wall.append(usage["completion_tokens"] / secs)
            print("run %d: %d prompt tokens at %.1f/s, %d generated at %.1f/s; %.2f s wall, %.1f tokens/s"
                  % (i + 1, t["prompt_n"], t["prompt_per_second"], t["predicted_n"], t["predicted_per_second"],
                     secs, wall[-1]), flush=True)
        print("median of %d: generation %.1f tokens/s, prompt %.1f tokens/s, wall clock %.1f completion tokens/s"
              % (args.runs, statistics.median(gen), statistics.median(prompt), statistics.median(wall)))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
