"""Study v3's power and MDE at 5 and 7 seeds (PLAN.md, "Size"): the paired t-test over seeds at Holm's
first step over each row's family, from the proxy per-seed SDs of issue 30's pilot (sizing/plan.txt), with
the planner's own functions. Run: python results/study-v3/sizing/power.py > results/study-v3/sizing/power.txt"""

from harness.seed_stats import mde, power

ROWS = {  # row: (family size, [(claim, distance of the paper's effect from the null or None, proxy SD, test)])
    "row 1, BookCrossing (runs)": (
        4,
        [
            ("b56-sf-tallrec", 2.96, 4.34, "two-sided"),
            ("b56-auc-tallrec (from the -2 margin)", 1.58, 4.04, "greater"),
            ("b56-sf-pt", None, 2.32, "two-sided"),
            ("b56-auc-pt (from the -2 margin)", 2.81, 2.80, "greater"),
        ],
    ),
    "row 2, Table 4 with IFairLRS and UP5 (runs; stereo proxy)": (
        5,
        [
            ("t4-sf-ifairlrs", 28.29, 7.88, "two-sided"),
            ("t4-auc-ifairlrs (from the -2 margin)", 2.44, 2.93, "greater"),
            ("t4-sf-up5", 19.82, 7.88, "two-sided"),
            ("t4-auc-up5 (from the -2 margin)", 4.04, 2.93, "greater"),
            ("t4-sf-user-item", 8.47, 7.88, "two-sided"),
        ],
    ),
    "row 3, Table 6 (not run; stereo / hidden proxy)": (
        4,
        [
            ("t6-sf-top2 (stereo)", 14.51, 7.88, "two-sided"),
            ("t6-auc-top2 (stereo)", 6.30, 2.93, "two-sided"),
            ("t6-sf-stochastic (stereo)", 26.90, 7.88, "two-sided"),
            ("t6-auc-stochastic (stereo)", 9.84, 2.93, "two-sided"),
            ("t6-auc-top2 (hidden)", 6.30, 1.32, "two-sided"),
            ("t6-auc-stochastic (hidden)", 9.84, 1.32, "two-sided"),
        ],
    ),
}

for n in (5, 7):
    print(f"{n} seeds, 80% power for the MDE")
    for row, (family, claims) in ROWS.items():
        alpha = 0.05 / family
        print(f"  {row}: alpha = {alpha:.4f} (Holm's first step over {family})")
        for name, effect, sd, test in claims:
            at = (
                ""
                if effect is None
                else f"  power at the paper's ({effect:.2f}): {power(effect, sd, n, alpha, test):.2f}"
            )
            print(f"    {name:38s} SD {sd:5.2f}  MDE {mde(sd, n, alpha, alternative=test):6.2f}{at}")
