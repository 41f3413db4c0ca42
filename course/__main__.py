"""``python -m course build ASSIGNMENT OUT`` and
``python -m course grade ASSIGNMENT SUBMISSION [--results FILE] [--seed N]``."""

import argparse
import sys

from . import build, grader
from .assignments import ASSIGNMENTS


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="write OUT/student/ (the starter) and OUT/autograder.zip")
    make.add_argument("assignment", choices=sorted(ASSIGNMENTS))
    make.add_argument("out")
    check = commands.add_parser("grade", help="grade a flat upload or a folder holding neural_networks/")
    check.add_argument("assignment", choices=sorted(ASSIGNMENTS))
    check.add_argument("submission")
    check.add_argument("--results", help="also write Gradescope's results.json here")
    check.add_argument("--seed", type=int, default=build.SEED, help="draws the tests' cases (default 0)")
    fixtures = commands.add_parser("fixtures", help="write tests/data/<TestClass>.npz fixtures under OUT")
    fixtures.add_argument("assignment", choices=sorted(ASSIGNMENTS))
    fixtures.add_argument("out")
    fixtures.add_argument("--seed", type=int, default=build.SEED)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build.build(args.assignment, args.out)
            print(f"wrote {args.out}/student/ and {args.out}/autograder.zip")
        elif args.command == "fixtures":
            for path in build.write_fixtures(args.assignment, args.out, args.seed):
                print(f"wrote {path}")
        else:
            results = grader.grade(args.assignment, args.submission, args.seed)
            seed = (f"Graded with seed {args.seed}: python -m course grade {args.assignment} SUBMISSION "
                    f"--seed {args.seed} repeats this run.")
            print(seed + "\n" + grader.report(results))
            if args.results:
                grader.write_results(results, args.results, seed)
    except (ValueError, FileNotFoundError) as error:
        print(f"python -m course {args.command}: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
