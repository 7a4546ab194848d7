"""Know: autotools. Recognised by configure, else configure.ac / configure.in (a tree from git:
configure is generated first); configured with --build and --host; `make check` runs automake's
test harness (a .trs file per test) and DejaGnu suites (<tool>.sum and .log), both read into our
JUnit; the autoconf macros other packages' .m4 files define, for the hints."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from ci.buildsystems.junit import Case, Status, is_fresh, text_of
from ci.buildsystems.spec import PREFIX, PROGRAM, BuildSystem, Results

# automake's (the test driver's :test-result:).
AUTOMAKE_STATUS: dict[str, Status] = {
    "PASS": "passed",
    "XFAIL": "passed",
    "SKIP": "skipped",
    "FAIL": "failed",
    "XPASS": "failed",
    "ERROR": "failed",
}
# DejaGnu's result words (the `WORD: name` lines of a .sum file): an expected failure (XFAIL, and
# KFAIL, a known bug's) passes; an unexpected pass fails, as does a test that could not decide
# (UNRESOLVED) and a Tcl error in the .exp file; UNTESTED and UNSUPPORTED are skips.
DEJAGNU_STATUS: dict[str, Status] = {
    "PASS": "passed",
    "XFAIL": "passed",
    "KFAIL": "passed",
    "FAIL": "failed",
    "XPASS": "failed",
    "KPASS": "failed",
    "UNRESOLVED": "failed",
    "ERROR": "failed",
    "UNTESTED": "skipped",
    "UNSUPPORTED": "skipped",
}
DEJAGNU_RESULT = re.compile(rf"^({'|'.join(DEJAGNU_STATUS)}): (.*)$")
DEJAGNU_RUNNING = re.compile(r"^Running (\S+\.exp) \.\.\.$")
# What a .log says between tests that is no test's output: the end of an .exp file's run.
DEJAGNU_BETWEEN = re.compile(r"^(Running \S+\.exp \.\.\.|testcase \S+ completed in .*)$")


def from_automake(results: Iterable[tuple[str, str, str]]) -> list[Case]:
    """(test name, its .trs text, its .log text) for each test automake's harness ran; a TAP test
    has a :test-result: line per case, named `<test> <n>`."""
    cases: list[Case] = []
    for name, trs, log in results:
        found = [
            line.split(":", 2)[2].strip() for line in trs.splitlines() if line.startswith(":test-result:")
        ]
        for n, result in enumerate(found, start=1):
            word = result.split()[0] if result else "ERROR"
            status = AUTOMAKE_STATUS.get(word, "failed")
            cases.append(
                Case(
                    name=name if len(found) == 1 else f"{name} {n}",
                    status=status,
                    message="" if status == "passed" else result,
                    output=log,
                )
            )
    return cases


def is_dejagnu_sum(text: str) -> bool:
    """Whether a .sum file is DejaGnu's: it opens with `Test run by USER on DATE`."""
    return text.lstrip().startswith("Test run by ")


def from_dejagnu(tool: str, summary: str, log: str) -> list[Case]:
    """A DejaGnu tool's results: each `WORD: name` line of its .sum file, classed under the .exp
    file that ran it (`<tool>.<exp's stem>`), a failure carrying what its .log says before it."""
    outputs = _dejagnu_outputs(log)
    cases: list[Case] = []
    group = tool
    for line in summary.splitlines():
        running = DEJAGNU_RUNNING.match(line.strip())
        if running:
            group = f"{tool}.{running.group(1).rsplit('/', 1)[-1].removesuffix('.exp')}"
            continue
        found = DEJAGNU_RESULT.match(line.rstrip())
        if not found:
            continue
        word, name = found.groups()
        status = DEJAGNU_STATUS[word]
        cases.append(
            Case(
                name=name.strip() or word,
                status=status,
                message="" if word == "PASS" else f"{word}: {name.strip()}",
                output=outputs.get(line.rstrip(), "") if status != "passed" else "",
                group=group,
            )
        )
    return cases


def _dejagnu_outputs(log: str) -> dict[str, str]:
    """Each result line of a DejaGnu .log -> the lines logged since the result before it."""
    found: dict[str, str] = {}
    since: list[str] = []
    for line in log.splitlines():
        if DEJAGNU_RESULT.match(line.rstrip()):
            found.setdefault(line.rstrip(), "\n".join([*since, line]))
            since = []
        elif DEJAGNU_BETWEEN.match(line.strip()):
            since = []
        else:
            since.append(line)
    return found


def read_automake(build_dir: Path, fresh: float) -> list[Case] | None:
    trs = [p for p in sorted(build_dir.rglob("*.trs")) if is_fresh(p, fresh)]
    named = ((p.relative_to(build_dir).with_suffix("").as_posix(), p) for p in trs)
    return from_automake((n, text_of(p), text_of(p.with_suffix(".log"))) for n, p in named) if trs else None


def read_dejagnu(build_dir: Path, fresh: float) -> list[Case] | None:
    """Every DejaGnu tool's results this run wrote (automake's dejagnu option: `make check` runs
    runtest, which leaves <tool>.sum and <tool>.log where it ran)."""
    sums = [p for p in sorted(build_dir.rglob("*.sum")) if is_fresh(p, fresh)]
    found = [(p, text) for p in sums if is_dejagnu_sum(text := text_of(p))]
    if not found:
        return None
    return [
        case
        for path, text in found
        for case in from_dejagnu(path.stem, text, text_of(path.with_suffix(".log")))
    ]


# autoconf macro -> the Debian (trixie) package whose aclocal .m4 file defines it; NAME_* stands
# for every macro that starts so (the longest wins). Each row checked in trixie's packages
# (2026-12-06); tests/integration/test_project_scripts.py checks that each package exists.
MACRO_PACKAGES: dict[str, str] = {
    "AM_GNU_GETTEXT*": "gettext",
    "AM_ICONV*": "gettext",
    "AM_PATH_CHECK": "check",
    "AM_PATH_GPG_ERROR": "libgpg-error-dev",
    "AM_PATH_LIBGCRYPT": "libgcrypt20-dev",
    "AX_*": "autoconf-archive",
    "GTK_DOC_*": "gtk-doc-tools",
    "IT_PROG_INTLTOOL": "intltool",
    "LTDL_*": "libltdl-dev",
    "LT_CONFIG_LTDL_DIR": "libltdl-dev",
    "LT_FUNC_DLSYM_USCORE": "libltdl-dev",
    "LT_LIB_DLLOAD": "libltdl-dev",
    "LT_SYS_DLOPEN_DEPLIBS": "libltdl-dev",
    "LT_SYS_DLSEARCH_PATH": "libltdl-dev",
    "LT_SYS_MODULE_EXT": "libltdl-dev",
    "LT_SYS_MODULE_PATH": "libltdl-dev",
    "LT_SYS_SYMBOL_USCORE": "libltdl-dev",
    "LT_*": "libtool",
    "PKG_*": "pkgconf",
    "XORG_*": "xutils-dev",
    "YELP_HELP_INIT": "yelp-tools",
}


def package_of_macro(macro: str) -> str | None:
    """The package whose .m4 defines macro: its own row, else the longest NAME_* prefix row."""
    if macro in MACRO_PACKAGES:
        return MACRO_PACKAGES[macro]
    prefixes = [key for key in MACRO_PACKAGES if key.endswith("*") and macro.startswith(key[:-1])]
    return MACRO_PACKAGES[max(prefixes, key=len)] if prefixes else None


# autoconf, when configure.ac uses a macro no .m4 file it found defines:
# "configure.ac:245: error: possibly undefined macro: LT_SYS_SYMBOL_USCORE"; and configure itself,
# when such a macro was left unexpanded (no m4_pattern_forbid caught it), fails on its line:
# "./configure: line 4567: `PKG_CHECK_MODULES(GLIB, glib-2.0)'".
UNDEFINED_MACRO = re.compile(
    r"error: possibly undefined macro: (?P<macro>[A-Za-z_][A-Za-z0-9_]*)"
    r"|configure: line \d+: `(?P<macro2>[A-Z][A-Z0-9]*_[A-Z0-9_]+)\("
)

SPEC = BuildSystem(
    name="autotools",
    markers=("configure", "configure.ac", "configure.in"),
    packages=("autoconf", "automake", "libtool", "perl"),
    layer="build-systems",
    test_command="make check",
    cross="--build and --host, PKG_CONFIG and PKG_CONFIG_LIBDIR of the target",
    build_types=(
        "debugoptimized",
        "debug",
        "release",
    ),  # CFLAGS -O2 -g (configure's own default), -O0 -g, -O2
    results=(Results(tool="automake", read=read_automake), Results(tool="dejagnu", read=read_dejagnu)),
    programs={
        "aclocal": "automake",
        "autoconf": "autoconf",
        "autom4te": "autoconf",
        "automake": "automake",
        "autoreconf": "autoconf",
        "libtool": "libtool",
        "libtoolize": "libtool",
        "runtest": "dejagnu",
    },
    missing_program=(
        # "checking for help2man... no", later "configure: error: ... help2man ...", not
        # PKG_CHECK_MODULES's "checking for zlib... no" and "Package requirements (zlib) were not met".
        re.compile(
            rf"^{PREFIX}checking for (?P<configure_program>{PROGRAM}(?<!\.h))\.\.\. no\s*\n"
            rf"(?:[^\n]*\n)*?{PREFIX}(?:[^\n]*: )?configure: error: (?!Package requirements)"
            r"[^\n]*\b(?P=configure_program)\b",
            re.MULTILINE,
        ),
    ),
)
