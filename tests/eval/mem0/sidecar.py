"""Drive Mem0's open-source Memory over JSON lines, for cmd/evalmem.

One request per line on stdin, one response per line on stdout (flushed after
each); logs go to stderr only. Run it with the python that setup.sh beside
this file prints:

    python sidecar.py --embed-url http://127.0.0.1:PORT/v1 \
        --embed-model all-minilm-l6-v2 --dims 384 --dir /tmp/somewhere

Mem0 runs with its default local Qdrant store (on disk under --dir), the
openai embedder pointed at --embed-url, and an openai LLM config pointed at the
same URL that infer=False never calls. Its history DB and MEM0_DIR live under
--dir too, so nothing touches $HOME.

Once Memory is built the sidecar writes {"ok":true,"ready":true,"version":V}.
Requests:

  {"op":"add","user_id":U,"items":[{"text":T,"metadata":{...}[,"timestamp":S]},...]}
      -> {"ok":true,"n":N}
      S (Unix seconds, when the item was said) goes to Memory.add's timestamp
      while Mem0 takes it; Mem0 OSS refuses it (a platform-only parameter),
      and info's notes say so.
      Each item becomes exactly one memory holding exactly T and the item's own
      metadata: one Memory.add(..., infer=False) per item, since add applies one
      metadata dict to every message it is given. All items are checked before
      any is stored.
  {"op":"search","user_id":U,"query":Q,"limit":K[,"threshold":X]}
      -> {"ok":true,"hits":[{"id":..,"text":..,"score":..,"metadata":{..}}],
          "took_ms":..}
      Memory.search(Q, top_k=K, filters={"user_id": U}), best first. (Mem0
      2.2.1 takes the count as top_k: a limit= keyword is silently ignored and
      it returns up to 20.) Without a threshold Mem0's default applies (0.1 on
      the cosine similarity).
  {"op":"info"}
      -> {"ok":true,"version":"2.2.1","hybrid":false,"notes":[...]}
      notes say how Mem0 ranks here (BM25 and entity boosts on or off, and
      why), which store runs, and the warnings Mem0 logged.
  {"op":"close"}
      -> {"ok":true}, then the process exits. End of input does the same.

Any failure is answered with {"ok":false,"error":"..."} and the sidecar keeps
reading.
"""

import argparse
import importlib.metadata
import importlib.util
import json
import logging
import os
import sys
import time

# Keys that Mem0 sets itself in a memory's payload or drops from the metadata
# it returns: item metadata must not use them.
RESERVED_METADATA_KEYS = frozenset(
    {
        "user_id",
        "agent_id",
        "run_id",
        "actor_id",
        "role",
        "attributed_to",
        "expiration_date",
        "data",
        "hash",
        "created_at",
        "updated_at",
        "text_lemmatized",
        "id",
    }
)

log = logging.getLogger("evalmem.mem0")


class Captured(logging.Handler):
    """Keeps the distinct warnings Mem0 logs (and its BM25/spaCy messages)."""

    def __init__(self, limit=50):
        super().__init__(level=logging.INFO)
        self.limit = limit
        self.messages = []

    def emit(self, record):
        try:
            msg = record.getMessage()
        except Exception:
            return
        if record.levelno < logging.WARNING and not any(
            w in msg for w in ("BM25", "bm25", "spaCy", "fastembed")
        ):
            return
        line = "%s %s: %s" % (record.levelname, record.name, msg)
        if line not in self.messages and len(self.messages) < self.limit:
            self.messages.append(line)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--embed-url", required=True, help="OpenAI-compatible base URL, e.g. http://127.0.0.1:PORT/v1")
    p.add_argument("--embed-model", required=True, help="embedding model name, passed through")
    p.add_argument("--dims", type=int, required=True, help="embedding dimensions")
    p.add_argument("--dir", required=True, help="directory for the Qdrant store, the history DB and MEM0_DIR")
    p.add_argument("--collection", default="evalmem", help="Qdrant collection name")
    return p.parse_args(argv)


def build_memory(args):
    from mem0 import Memory

    base = os.path.abspath(args.dir)
    config = {
        "embedder": {
            "provider": "openai",
            "config": {
                "model": args.embed_model,
                "api_key": "dummy",
                "openai_base_url": args.embed_url,
                "embedding_dims": args.dims,
            },
        },
        "vector_store": {
            "provider": "qdrant",
            "config": {
                "collection_name": args.collection,
                "path": os.path.join(base, "qdrant"),
                "embedding_model_dims": args.dims,
            },
        },
        "llm": {
            "provider": "openai",
            "config": {
                "model": "unused",
                "api_key": "dummy",
                "openai_base_url": args.embed_url,
            },
        },
        "history_db_path": os.path.join(base, "history.db"),
    }
    return Memory.from_config(config)


def item_list(req):
    items = req.get("items")
    if not isinstance(items, list):
        raise ValueError("items must be a list")
    out = []
    for i, it in enumerate(items):
        if not isinstance(it, dict):
            raise ValueError("items[%d]: want an object" % i)
        text = it.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("items[%d]: text must be a non-empty string" % i)
        md = it.get("metadata") or {}
        if not isinstance(md, dict):
            raise ValueError("items[%d]: metadata must be an object" % i)
        bad = sorted(RESERVED_METADATA_KEYS & set(md))
        if bad:
            raise ValueError("items[%d]: metadata keys %s are reserved by Mem0" % (i, ", ".join(bad)))
        ts = it.get("timestamp")
        if ts is not None and (not isinstance(ts, int) or isinstance(ts, bool) or ts < 0):
            raise ValueError("items[%d]: timestamp must be Unix seconds" % i)
        out.append((text, md, ts))
    return out


def user_of(req):
    user = req.get("user_id")
    if not isinstance(user, str) or not user:
        raise ValueError("user_id must be a non-empty string")
    return user


class Sidecar:
    def __init__(self, args, memory, captured):
        self.args = args
        self.m = memory
        self.captured = captured
        self.version = importlib.metadata.version("mem0ai")
        # Whether this Mem0 takes add's timestamp: None until an item
        # carries one, then what the first try said.
        self.timestamps = None
        self.timestamp_note = None

    def add(self, req):
        user = user_of(req)
        items = item_list(req)
        n = 0
        for i, (text, md, ts) in enumerate(items):
            kw = {}
            if ts is not None and self.timestamps is not False:
                kw["timestamp"] = ts
            try:
                res = self.m.add([{"role": "user", "content": text}], user_id=user, metadata=md, infer=False, **kw)
                if kw:
                    self.timestamps = True
                    self.timestamp_note = "timestamp: Memory.add accepted it"
            except ValueError as e:
                # Mem0 OSS refuses its platform-only temporal parameter
                # before storing anything: the date stays in the metadata.
                if not kw:
                    raise
                self.timestamps = False
                self.timestamp_note = "timestamp: refused by Memory.add (%s); the session date stays in the metadata only" % (
                    " ".join(str(e).split()))
                res = self.m.add([{"role": "user", "content": text}], user_id=user, metadata=md, infer=False)
            got = res.get("results", []) if isinstance(res, dict) else res
            if len(got) != 1 or got[0].get("memory") != text:
                raise RuntimeError(
                    "items[%d]: Mem0 stored %r for one message (after %d stored)" % (i, got, n)
                )
            n += 1
        return {"ok": True, "n": n}

    def search(self, req):
        user = user_of(req)
        query = req.get("query")
        if not isinstance(query, str):
            raise ValueError("query must be a string")
        limit = req.get("limit", 10)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ValueError("limit must be a non-negative integer")
        kwargs = {"top_k": limit, "filters": {"user_id": user}}
        if req.get("threshold") is not None:
            kwargs["threshold"] = float(req["threshold"])
        t0 = time.perf_counter()
        res = self.m.search(query, **kwargs)
        took = (time.perf_counter() - t0) * 1000.0
        hits = []
        for r in res.get("results", []):
            if r.get("user_id") not in (None, user):
                raise RuntimeError("Mem0 returned a memory of user %r" % r.get("user_id"))
            hits.append(
                {
                    "id": r.get("id"),
                    "text": r.get("memory"),
                    "score": r.get("score"),
                    "metadata": r.get("metadata") or {},
                }
            )
        return {"ok": True, "hits": hits, "took_ms": took}

    def ranking(self):
        """Which of Mem0's hybrid signals are live here, with the reasons."""
        from mem0.vector_stores.base import VectorStoreBase

        notes = []
        vs = self.m.vector_store
        bm25 = False
        if getattr(type(vs), "keyword_search", None) is VectorStoreBase.keyword_search:
            notes.append("BM25: off (the %s store has no keyword search)" % self.m.config.vector_store.provider)
        elif not getattr(vs, "_has_bm25_slot", False):
            notes.append("BM25: off (the collection has no bm25 sparse vector slot)")
        else:
            enc = None
            get = getattr(vs, "_get_bm25_encoder", None)
            if get is not None:
                try:
                    enc = get()
                except Exception as e:  # Mem0 itself treats this as "no BM25"
                    notes.append("BM25 encoder failed to load: %s" % e)
            if enc is None:
                why = "fastembed is not installed" if importlib.util.find_spec("fastembed") is None else "its model could not be loaded"
                notes.append("BM25: off (%s; Mem0 drops keyword scoring)" % why)
            else:
                bm25 = True
                notes.append("BM25: on (fastembed Qdrant/bm25)")
        entity = False
        if importlib.util.find_spec("spacy") is None:
            notes.append("spaCy lemmas and entity boosts: off (spaCy is not installed)")
        else:
            from mem0.utils.spacy_models import get_nlp_full, get_nlp_lemma

            lemma = get_nlp_lemma() is not None
            entity = get_nlp_full() is not None
            notes.append("spaCy lemmas: %s; entity boosts: %s (infer=False adds link no entities, so boosts stay empty)"
                         % ("on" if lemma else "off", "on" if entity else "off"))
        hybrid = bm25 or entity
        if not hybrid:
            notes.insert(0, "ranking: cosine similarity only (Mem0's hybrid scoring is inactive)")
        else:
            notes.insert(0, "ranking: hybrid (semantic + %s)" % " + ".join(
                x for x, on in (("BM25", bm25), ("entity boost", entity)) if on))
        return hybrid, notes

    def info(self, req):
        hybrid, notes = self.ranking()
        vs = self.m.config.vector_store.config
        notes.append(
            "store: qdrant-client %s in local mode at %s (scans every point in Python; not a Qdrant server)"
            % (importlib.metadata.version("qdrant-client"), vs.path)
        )
        notes.append("search threshold: Mem0's default 0.1 on the cosine score unless a request sets one")
        notes.append("embedder: openai provider, model %s at %s, %d dims" % (self.args.embed_model, self.args.embed_url, self.args.dims))
        if self.timestamp_note:
            notes.append(self.timestamp_note)
        notes.extend("logged: " + m for m in self.captured.messages)
        return {"ok": True, "version": self.version, "hybrid": hybrid, "notes": notes}

    def close(self):
        try:
            self.m.close()
        except Exception as e:
            log.warning("closing Memory: %s", e)
        client = getattr(self.m.vector_store, "client", None)
        if client is not None:
            try:
                client.close()
            except Exception as e:
                log.warning("closing Qdrant: %s", e)


def main(argv):
    args = parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    # Both are read when mem0 is first imported.
    os.environ["MEM0_DIR"] = os.path.join(os.path.abspath(args.dir), "mem0")
    os.environ["MEM0_TELEMETRY"] = "False"

    # The protocol owns the real stdout; anything printed by a library goes
    # to stderr instead.
    proto = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", newline="\n")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("mem0.vector_stores.qdrant").addFilter(
        lambda r: not r.getMessage().startswith("Inserting ")
    )
    captured = Captured()
    logging.getLogger("mem0").addHandler(captured)

    def send(obj):
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    try:
        sc = Sidecar(args, build_memory(args), captured)
    except Exception as e:
        log.exception("starting Mem0")
        send({"ok": False, "error": "starting Mem0: %s: %s" % (type(e).__name__, e)})
        return 1
    log.info("mem0ai %s ready (store %s, embedder %s at %s)", sc.version, args.dir, args.embed_model, args.embed_url)
    send({"ok": True, "ready": True, "version": sc.version})

    ops = {"add": sc.add, "search": sc.search, "info": sc.info}
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("request must be a JSON object")
            op = req.get("op")
            if op == "close":
                sc.close()
                send({"ok": True})
                return 0
            fn = ops.get(op)
            if fn is None:
                raise ValueError("unknown op %r" % (op,))
            resp = fn(req)
        except Exception as e:
            log.warning("request failed: %s: %s", type(e).__name__, e)
            resp = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        send(resp)
    sc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
