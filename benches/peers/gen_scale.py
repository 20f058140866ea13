#!/usr/bin/env python3
# Copied unchanged from the project's shared peer material (shared/peers/gen_scale.py),
# where issue #15 measured against it; benches/peers/peers.py runs this copy.
"""Fast generator of long cooperative balances at supervisor scale.

Writes N cooperatives x P monthly periods x ~C account codes as
`entity,period,code,value` (value with 2 decimals) for end-to-end performance
work.  Standard library only.

The indicator accounts and their relations (DOMAIN.md §2):
(performing 1401..1408, non-performing
1411..1414/1421..1424/1426..1428, provisions 1499 = sum of 1499xx (negative),
14, 11/1101/1103, 13, 16, 17, 18, 19 = 1901 + 1902 (1902xx) + 1990, 1,
3 = 31 + 33 + 36, 21/2101/2103/2105, 45 = 4501..4507, 4, 5).  Around them the
catalogue is filled with realistic "filler" accounts (2102xx, 22, 25xx, 26xx,
41xx, 4401.., 51xx, 52xx, ...) until each entity-period has --codes-per-period
codes.  Every code that has children in the file equals the sum of its
children (1 <- 2 digits <- 4 digits <- 6 digits), and 1 = 2 + 3, 5 = 4 + 36.
Values are computed in integer cents, so the consistency is exact.

Usage:
  gen_scale.py --institutions 5000 --periods 12 --codes-per-period 400 \
               --seed 1 --grouped --out coops_5000x12.csv
  gen_scale.py ... --verify      # re-read the file and check parents = sum
"""
import argparse
import os
import random
import sys
import time

# --- indicator accounts (as in gen_coops.py) --------------------------------
PERF = ["1401", "1402", "1403", "1404", "1405", "1406", "1407", "1408"]
NPL = ["1411", "1412", "1413", "1414", "1421", "1422", "1423", "1424", "1426", "1427", "1428"]
PROV = ["149905", "149910", "149915", "149920", "149925", "149930"]
OPEX = ["4501", "4502", "4503", "4504", "4505", "4506", "4507"]
F1902 = ["190205", "190210", "190225", "190240", "190290"]

# New branches that the core computes directly (shares of total assets).
LIAB_NEW = {"2102": (0.005, 0.03), "22": (0.0, 0.01), "23": (0.001, 0.01),
            "25": (0.01, 0.04), "26": (0.0, 0.08), "29": (0.0, 0.01)}
EXP_OTHER = ["41", "44", "46", "47", "48"]          # 4 = 41 + 44 + 45 + 46 + 47 + 48
INCOME = ["51", "52", "53", "54", "55", "56"]       # 5 = sum(5x) = 4 + 36

# 4-digit children of 2-digit accounts that are leaves in the core.
FOUR = {
    "13": ["1301", "1302", "1303", "1305", "1306", "1307"],
    "16": ["1602", "1603", "1604", "1690"],
    "17": ["1702", "1705", "1706"],
    "18": ["1801", "1802", "1803", "1805", "1806", "1807", "1890"],
    "22": ["2201", "2202", "2203"],
    "23": ["2301", "2302", "2303", "2304"],
    "25": ["2501", "2502", "2503", "2504", "2505", "2506", "2510", "2511", "2590"],
    "26": ["2602", "2603", "2606", "2607"],
    "29": ["2901", "2990"],
    "31": ["3101", "3103"],
    "33": ["3301", "3302", "3303", "3310"],
    "41": ["4101", "4102", "4103", "4104", "4105"],
    "44": ["4401", "4402", "4403", "4404", "4405"],
    "46": ["4601", "4602"],
    "47": ["4701", "4702", "4703", "4790"],
    "48": ["4810", "4815"],
    "51": ["5101", "5102", "5103", "5104", "5190"],
    "52": ["5201", "5290"],
    "53": ["5301", "5302"],
    "54": ["5401", "5402", "5403", "5404", "5490"],
    "55": ["5501", "5502", "5503", "5504", "5590"],
    "56": ["5601", "5602", "5604", "5690"],
}
SUFFIX = ["05", "10", "15", "20", "25", "30", "35", "40", "45", "50",
          "55", "60", "65", "70", "75", "80", "85", "90", "95"]
NO_SPLIT = {"36"}  # may be negative; kept a leaf as in gen_coops


def core_codes():
    c = set(PERF + NPL + PROV + OPEX + F1902)
    c |= {"1", "11", "1101", "1103", "13", "14", "1499", "16", "17", "18", "19", "1901",
          "1902", "1990", "2", "21", "2101", "2103", "2105", "3", "31", "33", "36",
          "4", "45", "5"}
    c |= set(LIAB_NEW) | set(EXP_OTHER) | set(INCOME)
    return c


def build_catalogue(target):
    """Return (codes sorted, split plan [(parent, [children])] top-down)."""
    codes = core_codes()
    plan = []
    for parent in sorted(FOUR):
        plan.append((parent, list(FOUR[parent])))
        codes |= set(FOUR[parent])
    # 4-digit leaves that may receive 6-digit children
    leaves = sorted(c for c in codes if len(c) == 4 and c not in ("1499", "1902")
                    and not any(x.startswith(c) and len(x) == 6 for x in codes))
    budget = target - len(codes)
    kids = {c: 0 for c in leaves}
    # round robin: every leaf first gets 2 children, then one more per round
    if budget > 0:
        while budget > 0:
            progressed = False
            for c in leaves:
                if budget <= 0:
                    break
                want = 2 if kids[c] == 0 else 1
                if kids[c] + want > len(SUFFIX):
                    continue
                if want > budget:
                    want = budget
                kids[c] += want
                budget -= want
                progressed = True
            if not progressed:
                break
    for c in leaves:
        if kids[c]:
            ch = [c + s for s in SUFFIX[:kids[c]]]
            plan.append((c, ch))
            codes |= set(ch)
    return sorted(codes), plan, budget


def money(rnd, lo, hi):
    lo, hi = int(lo * 100), int(hi * 100)
    return lo + int(rnd.random() * (hi - lo + 1))


def split_into(rnd, total, n):
    """Split integer `total` into n parts with random weights, exact sum."""
    w = [rnd.random() + 0.05 for _ in range(n)]
    s = sum(w)
    out = [int(total * x / s) for x in w[:-1]]
    out.append(total - sum(out))
    return out


def core_values(rnd, scale, npl_share, prov_cov):
    """gen_coops.coop() in integer cents, plus the new top-level branches."""
    b = {}
    for c in PERF:
        b[c] = money(rnd, scale * 0.02, scale * 0.25)
    perf = sum(b[c] for c in PERF)
    npl_target = perf * npl_share
    w = [rnd.random() for _ in NPL]
    sw = sum(w)
    for c, x in zip(NPL, w):
        b[c] = round(npl_target * x / sw)
    npl = sum(b[c] for c in NPL)
    prov_total = round(npl * prov_cov)
    for c, v in zip(PROV, split_into(rnd, prov_total, len(PROV))):
        b[c] = -v
    b["1499"] = -prov_total
    b["14"] = perf + npl + b["1499"]
    b["1101"] = money(rnd, scale * 0.005, scale * 0.02)
    b["1103"] = money(rnd, scale * 0.03, scale * 0.1)
    b["11"] = b["1101"] + b["1103"]
    b["13"] = money(rnd, scale * 0.02, scale * 0.08)
    for c in ("16", "17", "18"):
        b[c] = money(rnd, scale * 0.002, scale * 0.02)
    b["1901"] = money(rnd, scale * 0.001, scale * 0.01)
    for c in F1902:
        b[c] = money(rnd, scale * 0.0005, scale * 0.004)
    b["1902"] = sum(b[c] for c in F1902)
    b["1990"] = money(rnd, scale * 0.0005, scale * 0.003)
    b["19"] = b["1901"] + b["1902"] + b["1990"]
    a = b["11"] + b["13"] + b["14"] + b["16"] + b["17"] + b["18"] + b["19"]
    b["1"] = a
    b["36"] = round(a * rnd.uniform(-0.004, 0.03))
    b["31"] = round(a * rnd.uniform(0.05, 0.1))
    b["33"] = round(a * rnd.uniform(0.02, 0.06))
    b["3"] = b["31"] + b["33"] + b["36"]
    b["2101"] = round(a * rnd.uniform(0.2, 0.4))
    b["2105"] = round(a * rnd.uniform(0.01, 0.05))
    for c, (lo, hi) in LIAB_NEW.items():
        b[c] = round(a * rnd.uniform(lo, hi))
    other_liab = sum(b[c] for c in LIAB_NEW if len(c) == 2)
    b["2103"] = a - b["3"] - b["2101"] - b["2102"] - b["2105"] - other_liab
    b["21"] = b["2101"] + b["2102"] + b["2103"] + b["2105"]
    b["2"] = b["21"] + other_liab
    for c in OPEX:
        b[c] = round(a * rnd.uniform(0.002, 0.02))
    b["45"] = sum(b[c] for c in OPEX)
    for c, v in zip(EXP_OTHER, split_into(rnd, round(a * 0.03), len(EXP_OTHER))):
        b[c] = v
    b["4"] = b["45"] + sum(b[c] for c in EXP_OTHER)
    b["5"] = b["4"] + b["36"]
    for c, v in zip(INCOME, split_into(rnd, b["5"], len(INCOME))):
        b[c] = v
    return b


def fmt(c):
    return ('-%d.%02d' % divmod(-c, 100)) if c < 0 else ('%d.%02d' % divmod(c, 100))


def generate(args):
    codes, plan, short = build_catalogue(args.codes_per_period)
    if short > 0:
        print(f"warning: catalogue holds only {len(codes)} codes", file=sys.stderr)
    if args.codes_per_period < len(codes):
        print(f"note: minimum catalogue is {len(codes)} codes", file=sys.stderr)
    idx = {c: i for i, c in enumerate(codes)}
    core = sorted(core_codes())
    core_idx = [(c, idx[c]) for c in core]
    plan_idx = [(idx[p], [idx[c] for c in ch], len(ch)) for p, ch in plan]
    code_prefix = [c + "," for c in codes]
    n = len(codes)
    rnd = random.Random(args.seed)
    periods = []
    y, m = args.start_year, 1
    for _ in range(args.periods):
        periods.append(f"{y:04d}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    rows_total = args.institutions * args.periods * n
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    t0 = time.time()
    shuffled = args.shuffled
    allrows = [] if shuffled else None
    rrandom = rnd.random
    with open(args.out, "w", buffering=1 << 24, newline="") as f:
        f.write("entity,period,code,value\n")
        for e in range(args.institutions):
            ent = f"COAC-{e + 1:05d}"
            # log-uniform size from 0.5M to 200M in assets-like scale
            scale = 5e5 * (400.0 ** rrandom())
            npl0 = 0.01 + 0.13 * rrandom() ** 1.5
            cov0 = 0.4 + 1.2 * rrandom()
            growth = 0.015 * rrandom()
            block = []
            for t, per in enumerate(periods):
                b = core_values(rnd, scale * (1.0 + growth) ** t,
                                npl0 * rnd.uniform(0.8, 1.2), cov0 * rnd.uniform(0.9, 1.1))
                vals = [0] * n
                for c, i in core_idx:
                    vals[i] = b[c]
                for pi, ch, k in plan_idx:
                    total = vals[pi]
                    w = [rrandom() + 0.05 for _ in range(k)]
                    s = sum(w)
                    acc = 0
                    for j in range(k - 1):
                        v = int(total * w[j] / s)
                        vals[ch[j]] = v
                        acc += v
                    vals[ch[k - 1]] = total - acc
                pre = ent + "," + per + ","
                if shuffled:
                    allrows.extend([pre + cp + (('-%d.%02d' % divmod(-v, 100)) if v < 0
                                                else ('%d.%02d' % divmod(v, 100))) + "\n"
                                    for cp, v in zip(code_prefix, vals)])
                else:
                    block.append("".join([pre + cp + (('-%d.%02d' % divmod(-v, 100)) if v < 0
                                                      else ('%d.%02d' % divmod(v, 100))) + "\n"
                                          for cp, v in zip(code_prefix, vals)]))
            if not shuffled:
                f.write("".join(block))
            if args.progress and (e + 1) % 500 == 0:
                print(f"  {e + 1} institutions, {time.time() - t0:.1f} s", file=sys.stderr)
        if shuffled:
            random.Random(args.seed + 1).shuffle(allrows)
            for i in range(0, len(allrows), 200_000):
                f.write("".join(allrows[i:i + 200_000]))
    dt = time.time() - t0
    size = os.path.getsize(args.out)
    print(f"{args.out}: {rows_total} rows ({args.institutions} x {args.periods} x {n} codes), "
          f"{size / 1e6:.1f} MB, {dt:.1f} s", file=sys.stderr)


def verify(path):
    """Check every entity-period: each code with children equals their sum."""
    import csv
    from collections import defaultdict
    blocks = defaultdict(dict)
    with open(path, newline="") as f:
        r = csv.reader(f)
        next(r)
        for ent, per, code, val in r:
            neg = val.startswith("-")
            ip, fp = val.lstrip("-").split(".")
            assert len(fp) == 2, val
            c = int(ip) * 100 + int(fp)
            blocks[(ent, per)][code] = -c if neg else c
    parent_of = {1: None, 2: 1, 4: 2, 6: 4}
    bad = 0
    ncodes = set()
    for key, b in blocks.items():
        ncodes.add(len(b))
        sums = defaultdict(int)
        for code, v in b.items():
            pl = parent_of[len(code)]
            if pl:
                sums[code[:pl]] += v
        for p, s in sums.items():
            if p not in b or b[p] != s:
                bad += 1
                if bad < 5:
                    print("mismatch", key, p, b.get(p), s)
        if b["1"] != b["2"] + b["3"] or b["5"] != b["4"] + b["36"]:
            bad += 1
            print("identity broken", key)
        if b["2103"] <= 0:
            bad += 1
            print("non-positive 2103", key)
    print(f"verify {path}: {len(blocks)} entity-periods, codes per block {sorted(ncodes)}, "
          f"{bad} problems")
    return bad == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--institutions", type=int, default=500)
    ap.add_argument("--periods", type=int, default=12)
    ap.add_argument("--codes-per-period", type=int, default=400)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--start-year", type=int, default=2025)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--grouped", action="store_true", default=True,
                   help="rows sorted by entity, then period, then code (default)")
    g.add_argument("--shuffled", action="store_true", help="rows in random order")
    ap.add_argument("--out", required=True)
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--verify", action="store_true", help="only verify an existing --out file")
    args = ap.parse_args()
    if args.verify:
        sys.exit(0 if verify(args.out) else 1)
    generate(args)


if __name__ == "__main__":
    main()
