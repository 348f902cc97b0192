#!/usr/bin/env python3
"""Drive a neomem server through Mem0's own, unchanged Python ``MemoryClient``.

Usage (python from ``bash tests/mem0compat/setup.sh``):

    python compat.py --host http://127.0.0.1:PORT --api-key KEY [--user-prefix P]

Every check prints ``PASS name`` or ``FAIL name: reason``; the last line is
``N passed, M failed`` and the exit status is non-zero when M > 0. A check
whose prerequisite failed is reported as FAIL ("not run: ..."), so the total
is always the same.

The server is expected to run add(infer=True) against a scripted fake model;
this script only checks that such a call succeeds and has the documented
shape. Everything it writes lives under user ids that start with the prefix
(unique per run unless --user-prefix is given), and it deletes them at the
end unless --keep is given.

The wire format this exercises is described in docs/mem0-client-wire.md.
"""

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid

CHECKS = [
    "construct",
    "add_infer_false",
    "add_infer_true",
    "add_scope_in_filters",
    "search_filters",
    "shared_room",
    "get_all_pagination",
    "get",
    "update",
    "history",
    "delete",
    "delete_all",
    "users",
]

# Fixed texts: the run differs only by its user-id prefix.
ALICE_USER_MSG = "My favourite programming language is Go and I write it every day."
ALICE_ASSISTANT_MSG = "Great, I will remember that you enjoy hiking in the Alps each summer."
ALICE_UPDATED = "My favourite programming language is now Rust, I switched from Go."
SEARCH_QUERY = "favourite programming language"
BOB_MSG = "Hi, I'm Bob. I live in Lisbon and I am allergic to peanuts."
CAROL_MSG = "Carol keeps three cats named Pixel, Vector and Tensor."
METADATA = {"suite": "mem0compat", "n": 1}

PAGER_COUNT = 25
PAGE_SIZE = 10
_ANIMALS = ["fox", "whale", "heron", "otter", "lynx", "badger", "falcon", "moose",
            "gecko", "walrus", "ibis", "marten", "okapi", "puffin", "quokka",
            "raven", "tapir", "urchin", "vole", "wombat", "yak", "zebra",
            "bison", "camel", "dingo"]
_CITIES = ["Oslo", "Quito", "Accra", "Hanoi", "Perth", "Lima", "Riga", "Tunis",
           "Dakar", "Porto", "Cusco", "Turku", "Split", "Galway", "Bergen",
           "Kyoto", "Mysore", "Nantes", "Malmo", "Zadar", "Bilbao", "Graz",
           "Leuven", "Tartu", "Varna"]
PAGER_TEXTS = [
    f"Pager note {i:02d}: a {_ANIMALS[i]} was seen near {_CITIES[i]} on day {i + 1}."
    for i in range(PAGER_COUNT)
]

EVENTS = {"ADD", "UPDATE", "DELETE", "NONE"}


class CheckFailed(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def short(value, limit=300):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def results_of(resp, what):
    """The ``results`` list of a Mem0 answer shaped {"results": [...]}."""
    need(isinstance(resp, dict), f"{what}: expected a JSON object, got {short(resp)}")
    res = resp.get("results")
    need(isinstance(res, list), f"{what}: 'results' is not a list: {short(resp)}")
    for item in res:
        need(isinstance(item, dict), f"{what}: result item is not an object: {short(item)}")
    return res


def check_add_items(items, what):
    for item in items:
        need(isinstance(item.get("id"), str) and item["id"], f"{what}: item without string 'id': {short(item)}")
        need(isinstance(item.get("memory"), str), f"{what}: item without string 'memory': {short(item)}")
        need(item.get("event") in EVENTS, f"{what}: item 'event' not one of {sorted(EVENTS)}: {short(item)}")


def page_through(client, filters, page_size):
    """All pages of get_all(filters) following 'next'; returns (pages, items)."""
    pages, items = [], []
    page = 1
    while True:
        need(page <= 50, "more than 50 pages: 'next' never becomes null")
        resp = client.get_all(filters=filters, page=page, page_size=page_size)
        need(isinstance(resp, dict), f"page {page}: expected a JSON object, got {short(resp)}")
        for key in ("count", "next", "previous", "results"):
            need(key in resp, f"page {page}: missing '{key}' in {short(resp)}")
        res = results_of(resp, f"page {page}")
        need(len(res) <= page_size, f"page {page}: {len(res)} results for page_size={page_size}")
        pages.append(resp)
        items.extend(res)
        if not resp.get("next"):
            return pages, items
        page += 1


class Runner:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.ok = {}

    def run(self, name, fn, requires=()):
        missing = [r for r in requires if not self.ok.get(r)]
        if missing:
            self.fail(name, "not run: needs " + ", ".join(missing))
            return
        try:
            fn()
        except CheckFailed as e:
            self.fail(name, str(e))
            return
        except Exception as e:  # the client raises its own exception types
            self.fail(name, f"{type(e).__module__}.{type(e).__name__}: {e}")
            return
        self.ok[name] = True
        self.passed += 1
        print(f"PASS {name}", flush=True)

    def fail(self, name, reason):
        self.ok[name] = False
        self.failed += 1
        reason = " ".join(str(reason).split())
        print(f"FAIL {name}: {reason}", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", required=True, help="base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--user-prefix", default=None,
                    help="prefix of every user id written (default: unique per run)")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="per-request timeout in seconds after construction (client default is 300)")
    ap.add_argument("--min-infer-results", type=int, default=0,
                    help="least number of results add(infer=True) must return (default 0)")
    ap.add_argument("--keep", action="store_true", help="do not delete this run's users at the end")
    args = ap.parse_args(argv)

    # mem0 reads these when first imported: no PostHog telemetry (it would try
    # us.i.posthog.com and stall the exit by seconds offline), and its
    # config.json goes to a scratch dir instead of ~/.mem0.
    os.environ["MEM0_TELEMETRY"] = "False"
    scratch = None
    if not os.environ.get("MEM0_DIR"):
        scratch = tempfile.mkdtemp(prefix="mem0compat-")
        os.environ["MEM0_DIR"] = scratch
    try:
        return run_all(args)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def run_all(args):
    prefix = args.user_prefix
    if prefix is None:
        prefix = f"compat-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}-"
    alice, bob, carol, pager = (prefix + n for n in ("alice", "bob", "carol", "pager"))
    print(f"# mem0compat: host={args.host} user prefix={prefix}", flush=True)

    r = Runner()
    try:
        import httpx
        import mem0
        from mem0 import MemoryClient
        from mem0.exceptions import MemoryNotFoundError
    except Exception as e:
        for name in CHECKS:
            r.fail(name, f"cannot import mem0: {type(e).__name__}: {e}")
        print(f"{r.passed} passed, {r.failed} failed")
        return 1
    # The client logs every HTTP error at ERROR level; the delete check
    # expects a 404, and failures are reported by this script anyway.
    logging.getLogger("mem0").setLevel(logging.CRITICAL + 1)
    print(f"# mem0ai {getattr(mem0, '__version__', '?')}", flush=True)

    st = {}

    def construct():
        c = MemoryClient(api_key=args.api_key, host=args.host)
        # The constructor already raised unless ping answered 2xx with string
        # org_id and project_id (Project() validates them).
        need(isinstance(c.org_id, str) and c.org_id, f"org_id from ping is {short(c.org_id)}")
        need(isinstance(c.project_id, str) and c.project_id, f"project_id from ping is {short(c.project_id)}")
        if args.timeout > 0:
            c.client.timeout = httpx.Timeout(args.timeout)
        st["c"] = c

    def add_infer_false():
        c = st["c"]
        resp = c.add(
            [{"role": "user", "content": ALICE_USER_MSG},
             {"role": "assistant", "content": ALICE_ASSISTANT_MSG}],
            user_id=alice, infer=False, metadata=METADATA,
        )
        res = results_of(resp, "add")
        check_add_items(res, "add")
        need(len(res) == 2, f"expected 2 memories for 2 messages, got {len(res)}: {short(res)}")
        texts = sorted(item["memory"] for item in res)
        need(texts == sorted([ALICE_USER_MSG, ALICE_ASSISTANT_MSG]),
             f"memories are not the message texts: {short(texts)}")
        for item in res:
            need(item["event"] == "ADD", f"event is {item['event']!r}, expected 'ADD': {short(item)}")
        need(res[0]["id"] != res[1]["id"], "both memories have the same id")
        st["alice_ids"] = {item["memory"]: item["id"] for item in res}
        st["target"] = st["alice_ids"][ALICE_USER_MSG]
        st["other"] = st["alice_ids"][ALICE_ASSISTANT_MSG]

    def add_infer_true():
        c = st["c"]
        resp = c.add([{"role": "user", "content": BOB_MSG}], user_id=bob, infer=True)
        res = results_of(resp, "add(infer=True)")
        check_add_items(res, "add(infer=True)")
        need(len(res) >= args.min_infer_results,
             f"{len(res)} results, expected at least {args.min_infer_results}: {short(resp)}")

    def add_scope_in_filters():
        # mem0ai 2.2.1's typed AddMemoryOptions carries the scope only inside
        # 'filters'; the client sends {"messages": ..., "filters": {"user_id": ...}}.
        c = st["c"]
        resp = c.add(CAROL_MSG, filters={"user_id": carol}, infer=False)
        res = results_of(resp, "add")
        check_add_items(res, "add")
        need(len(res) == 1, f"expected 1 memory, got {len(res)}: {short(res)}")
        mid = res[0]["id"]
        got = results_of(c.get_all(filters={"user_id": carol}), "get_all")
        need([m.get("id") for m in got] == [mid],
             f"get_all(filters={{'user_id': carol}}) gave {short(got)}, expected only {mid}")
        need(got[0].get("user_id") == carol, f"stored user_id is {short(got[0].get('user_id'))}, expected {carol}")

    def search_filters():
        c = st["c"]
        resp = c.search(SEARCH_QUERY, filters={"AND": [{"user_id": alice}]}, top_k=5)
        res = results_of(resp, "search")
        need(res, "no results")
        first = res[0]
        need(first.get("id") == st["target"],
             f"first result is {short(first)}, expected id {st['target']} ({ALICE_USER_MSG!r})")
        need(first.get("memory") == ALICE_USER_MSG, f"first result memory is {short(first.get('memory'))}")
        need(isinstance(first.get("score"), (int, float)), f"first result has no numeric 'score': {short(first)}")
        allowed = set(st["alice_ids"].values())
        for item in res:
            need(item.get("id") in allowed, f"result outside the filter (user {alice}): {short(item)}")
            if "user_id" in item:
                need(item["user_id"] == alice, f"result with user_id {item['user_id']!r}: {short(item)}")

    def shared_room():
        # Mem0's shared-room pattern: one search over several users of the
        # project, which the client can only send as an OR filter.
        c = st["c"]
        room = {"OR": [{"user_id": alice}, {"user_id": carol}]}
        res = results_of(c.search("programming language and cats", filters=room, top_k=10), "search")
        users = {item.get("user_id") for item in res}
        need(users == {alice, carol}, f"shared-room search found users {short(sorted(map(str, users)))}, expected {alice} and {carol}")
        listed = results_of(c.get_all(filters=room), "get_all")
        need({m.get("user_id") for m in listed} == {alice, carol},
             f"shared-room get_all found {short([m.get('user_id') for m in listed])}")
        need(len(listed) == 3, f"shared-room get_all gave {len(listed)} memories, expected alice's 2 and carol's 1")

    def get_all_pagination():
        c = st["c"]
        created = []
        for i, text in enumerate(PAGER_TEXTS):
            res = results_of(c.add(text, user_id=pager, infer=False), f"add #{i}")
            need(len(res) == 1, f"add #{i}: expected 1 memory, got {len(res)}: {short(res)}")
            check_add_items(res, f"add #{i}")
            created.append(res[0]["id"])
        need(len(set(created)) == PAGER_COUNT, f"add returned duplicate ids: {short(created)}")
        pages, items = page_through(c, {"user_id": pager}, PAGE_SIZE)
        sizes = [len(p["results"]) for p in pages]
        expect = [PAGE_SIZE] * (PAGER_COUNT // PAGE_SIZE) + ([PAGER_COUNT % PAGE_SIZE] if PAGER_COUNT % PAGE_SIZE else [])
        need(sizes == expect, f"page sizes {sizes}, expected {expect}")
        for n, p in enumerate(pages, 1):
            need(p["count"] == PAGER_COUNT, f"page {n}: count is {short(p['count'])}, expected {PAGER_COUNT}")
        ids = [m.get("id") for m in items]
        dups = sorted({i for i in ids if ids.count(i) > 1})
        need(not dups, f"duplicate ids across pages: {short(dups)}")
        missing = sorted(set(created) - set(ids))
        extra = sorted(set(ids) - set(created))
        need(not missing and not extra, f"missing {short(missing)}, unexpected {short(extra)}")
        st["pager_ids"] = set(created)

    def get():
        c = st["c"]
        m = c.get(st["target"])
        need(isinstance(m, dict), f"expected a JSON object, got {short(m)}")
        need(m.get("id") == st["target"], f"id is {short(m.get('id'))}, expected {st['target']}")
        need(m.get("memory") == ALICE_USER_MSG, f"memory is {short(m.get('memory'))}")
        need(m.get("user_id") == alice, f"user_id is {short(m.get('user_id'))}, expected {alice}")
        md = m.get("metadata") or {}
        need(isinstance(md, dict) and all(md.get(k) == v for k, v in METADATA.items()),
             f"metadata is {short(m.get('metadata'))}, expected to contain {METADATA}")
        for key in ("created_at", "updated_at"):
            need(isinstance(m.get(key), str) and m[key], f"'{key}' missing or not a string: {short(m)}")

    def update():
        c = st["c"]
        resp = c.update(st["target"], text=ALICE_UPDATED)
        need(isinstance(resp, dict), f"expected a JSON object, got {short(resp)}")
        m = c.get(st["target"])
        need(m.get("memory") == ALICE_UPDATED, f"after update, get() memory is {short(m.get('memory'))}")

    def history():
        c = st["c"]
        h = c.history(st["target"])
        need(isinstance(h, list), f"expected a JSON list, got {short(h)}")
        need(all(isinstance(e, dict) for e in h), f"entries are not all objects: {short(h)}")
        events = [str(e.get("event", "")).upper() for e in h]
        need("ADD" in events, f"no ADD entry in {short(h)}")
        upd = [e for e in h if str(e.get("event", "")).upper() == "UPDATE"]
        need(upd, f"no UPDATE entry in {short(h)}")
        e = upd[-1]
        need(e.get("old_memory") == ALICE_USER_MSG, f"UPDATE old_memory is {short(e.get('old_memory'))}")
        need(e.get("new_memory") == ALICE_UPDATED, f"UPDATE new_memory is {short(e.get('new_memory'))}")
        for e in h:
            if "memory_id" in e:
                need(e["memory_id"] == st["target"], f"entry for another memory: {short(e)}")

    def delete():
        c = st["c"]
        resp = c.delete(st["target"])
        need(isinstance(resp, dict), f"expected a JSON object, got {short(resp)}")
        try:
            m = c.get(st["target"])
        except MemoryNotFoundError:
            pass
        else:
            raise CheckFailed(f"get() after delete still answers {short(m)} (expected 404)")
        left = [m.get("id") for m in results_of(c.get_all(filters={"user_id": alice}), "get_all")]
        need(st["target"] not in left, "deleted memory still listed by get_all")
        need(st["other"] in left, f"the other memory of {alice} is gone too: {short(left)}")

    def delete_all():
        c = st["c"]
        before = results_of(c.get_all(filters={"user_id": alice}), "get_all before")
        need(before, f"{alice} has no memories before delete_all, nothing to test")
        resp = c.delete_all(user_id=alice)
        need(isinstance(resp, dict), f"expected a JSON object, got {short(resp)}")
        after = c.get_all(filters={"user_id": alice})
        left = results_of(after, "get_all after")
        need(not left, f"{len(left)} memories left after delete_all: {short(left)}")
        if "count" in after:
            need(after["count"] == 0, f"count is {short(after['count'])} after delete_all")
        _, pager_items = page_through(c, {"user_id": pager}, 100)
        need({m.get("id") for m in pager_items} == st["pager_ids"],
             f"delete_all(user_id={alice}) changed another user's memories")

    def users():
        c = st["c"]
        resp = c.users()
        res = results_of(resp, "users")
        for e in res:
            need("type" in e and "name" in e, f"entity without 'type'/'name' (delete_users reads both): {short(e)}")
        need(any(e.get("name") == pager and e.get("type") == "user" for e in res),
             f"user {pager} not listed: {short(res)}")

    r.run("construct", construct)
    r.run("add_infer_false", add_infer_false, ["construct"])
    r.run("add_infer_true", add_infer_true, ["construct"])
    r.run("add_scope_in_filters", add_scope_in_filters, ["construct"])
    r.run("search_filters", search_filters, ["add_infer_false"])
    r.run("shared_room", shared_room, ["add_infer_false", "add_scope_in_filters"])
    r.run("get_all_pagination", get_all_pagination, ["construct"])
    r.run("get", get, ["add_infer_false"])
    r.run("update", update, ["add_infer_false"])
    r.run("history", history, ["update"])
    r.run("delete", delete, ["add_infer_false"])
    r.run("delete_all", delete_all, ["add_infer_false", "get_all_pagination"])
    r.run("users", users, ["get_all_pagination"])
    assert r.passed + r.failed == len(CHECKS)

    if "c" in st and not args.keep:
        for uid in (alice, bob, carol, pager):
            try:
                st["c"].delete_all(user_id=uid)
            except Exception as e:
                print(f"# cleanup of {uid} failed: {type(e).__name__}: {e}", flush=True)

    print(f"{r.passed} passed, {r.failed} failed", flush=True)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
