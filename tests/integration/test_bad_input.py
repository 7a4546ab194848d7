"""Bad input, table-driven: one clear line, its own exit code, and nothing of the user's touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import run_build_py, snapshot, tiny_platforms

SOURCE_LINES = "cmake_minimum_required(VERSION 3.16)\nproject(p C)\n"

# (id, arguments, extra environment, exit code, words the one error line must contain)
CASES: list[tuple[str, list[str], dict[str, str], int, str]] = [
    ("unknown-platform", ["-p", "amd65"], {}, 66, "did you mean 'amd64'"),
    ("platform-with-slash", ["-p", "../amd64"], {}, 65, "invalid platform name"),
    ("platform-with-dotdot", ["-p", "a..b"], {}, 65, "no '..'"),
    ("platform-uppercase", ["-p", "AMD64"], {}, 65, "lowercase"),
    ("unknown-function", ["-p", "amd64", "build_nonsense"], {}, 67, "unknown runtime function"),
    ("env-without-equals", ["-p", "amd64", "-e", "NOVALUE"], {}, 64, "malformed -e"),
    ("env-name-digit", ["-p", "amd64", "-e", "1BAD=x"], {}, 64, "malformed -e"),
    ("env-empty-name", ["-p", "amd64", "-e", "=x"], {}, 64, "malformed -e"),
    ("source-missing", ["-p", "amd64", "--source", "{tmp}/nope"], {}, 68, "does not exist"),
    ("source-is-a-file", ["-p", "amd64", "--source", "{src}/CMakeLists.txt"], {}, 68, "not a directory"),
    ("engine-unreachable", ["-p", "amd64"], {"DOCKER_HOST": "unix://{tmp}/no.sock"}, 69, "cannot reach"),
    (
        "base-unavailable",
        ["-p", "nobase", "--docker-dir", "{docker}", "--build-dir", "{tmp}/b2"],
        {},
        70,
        "cannot be pulled",
    ),
    (
        "image-build-fails",
        ["-p", "broken", "--docker-dir", "{docker}", "--build-dir", "{tmp}/b2"],
        {},
        71,
        "non-zero code: 9",
    ),
    (
        "run-only-no-image",
        ["-p", "neverbuilt", "--docker-dir", "{docker}", "-R", "--build-dir", "{tmp}/b2"],
        {},
        72,
        "--run-only",
    ),
    ("build-dir-conflict", ["-p", "i386"], {}, 73, "refusing to mix"),
    ("bad-definition", ["-p", "amd64", "--docker-dir", "{baddocker}"], {}, 74, "unknown declaration"),
    ("build-dir-is-a-file", ["-p", "amd64", "--build-dir", "{src}/CMakeLists.txt"], {}, 76, "cannot create"),
    ("socket-in-mount", ["-p", "amd64", "--source", "/var/run"], {}, 78, "Docker socket"),
    ("unknown-arch", ["-p", "amd64", "--arch", "vax"], {}, 2, "unknown architecture"),
    ("build-and-run-only", ["-p", "amd64", "-b", "-R"], {}, 2, "contradict"),
    ("no-platform", [], {}, 2, "no platform given"),
    ("all-and-platform", ["-a", "-p", "amd64"], {}, 2, "contradict"),
    ("function-and-command", ["-p", "amd64", "describe_platform", "--", "true"], {}, 2, "not both"),
    ("zero-timeout", ["-p", "amd64", "--timeout", "0"], {}, 2, "--timeout"),
    ("zero-jobs", ["-p", "amd64", "-j", "0"], {}, 2, "-j/--jobs"),
    ("unknown-flag", ["-p", "amd64", "--frobnicate"], {}, 2, "unrecognized arguments"),
    ("bad-registry", ["-p", "amd64", "--docker-registry", "http://x/"], {}, 2, "is not HOST or HOST:PORT"),
    ("push-without-registry", ["-p", "amd64", "--push-cache"], {}, 2, "needs --docker-registry"),
    (
        "bad-release-tag",
        ["-p", "amd64", "--release", "bad tag!", "--push", "127.0.0.1:1/x"],
        {},
        80,
        "invalid release tag",
    ),
    (
        "bad-push-reference",
        ["-p", "amd64", "--release", "1.0", "--push", "127.0.0.1:1/X:1"],
        {},
        80,
        "invalid image reference",
    ),
    ("release-without-push", ["-p", "amd64", "--release", "1.0"], {}, 2, "go together"),
    ("interactive-several", ["-p", "amd64,i386", "-i"], {}, 2, "one platform"),
    # The default step on a tree no build system knows: refused before any container.
    ("no-build-system", ["-p", "amd64", "--source", "{nosys}"], {}, 86, "looked for CMakeLists.txt"),
    ("zero-test-jobs", ["-p", "amd64", "--test-jobs", "0"], {}, 2, "--test-jobs"),
    ("negative-retries", ["-p", "amd64", "--retries", "-1"], {}, 2, "--retries must be 0 or more"),
    ("unknown-build-system", ["-p", "amd64", "--build-system", "scons"], {}, 2, "invalid choice"),
]


@pytest.fixture
def user_dirs(tmp_path: Path) -> dict[str, Path]:
    src, build, cache = tmp_path / "src", tmp_path / "build", tmp_path / "cache"
    for d in (src, build, cache):
        d.mkdir()
        (d / "precious.txt").write_text(f"the user's own file in {d.name}\n")
    (src / "CMakeLists.txt").write_text(SOURCE_LINES)
    (build / ".ciharness-platform").write_text(f"platform=amd64\nsource={src}\n")
    docker_dir = tiny_platforms(
        tmp_path,
        {
            "nobase": "FROM example.invalid/nothing:1\n",
            "broken": "FROM debian:trixie\nRUN exit 9\n",
            "neverbuilt": f"FROM debian:trixie\nRUN echo {tmp_path.name}\n",
        },
    )
    bad = tiny_platforms(tmp_path / "bad", {"amd64": "# ci.colour: blue\nFROM debian:trixie\n"})
    nosys = tmp_path / "nosys"  # sources and a README, but nothing that builds them
    nosys.mkdir()
    (nosys / "README").write_text("build me by hand\n")
    (nosys / "main.c").write_text("int main(void) { return 0; }\n")
    return {
        "tmp": tmp_path,
        "nosys": nosys,
        "src": src,
        "build": build,
        "cache": cache,
        "docker": docker_dir,
        "baddocker": bad,
    }


@pytest.mark.usefixtures("amd64_image", "no_leftovers")
@pytest.mark.parametrize(("case", "args", "env", "code", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(
    user_dirs: dict[str, Path], case: str, args: list[str], env: dict[str, str], code: int, words: str
) -> None:
    fill = {k: str(v) for k, v in user_dirs.items()}
    argv = [a.format(**fill) for a in args]
    if "--source" not in argv:
        argv += ["--source", fill["src"]]
    if "--build-dir" not in argv:
        argv += ["--build-dir", fill["build"]]
    argv += ["--ccache-dir", fill["cache"]]
    if (
        "--" not in argv
        and "-b" not in argv
        and "--release" not in argv
        and not any(a.startswith("build_") or a == "describe_platform" for a in argv)
        and fill["nosys"] not in argv
    ):
        argv += ["--", "true"]
    before = {name: snapshot(user_dirs[name]) for name in ("src", "build", "cache", "nosys")}

    result = run_build_py(*argv, env={k: v.format(**fill) for k, v in env.items()}, timeout=300)

    assert result.returncode == code, (case, result.stderr[-2000:])
    lines = [
        line for line in result.stderr.splitlines() if line.startswith("build.py:") and "ERROR" not in line
    ]
    errors = [line for line in lines if words in line]
    assert errors, (case, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    if code not in (70, 71):  # those stream the engine's own output before the one error line
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for name, files in before.items():
        after = snapshot(user_dirs[name])
        assert {k: v for k, v in after.items() if k in files} == files, f"{case} touched {name}"
