"""Do: join per-architecture release images (TAG-<arch>, pushed from any machines) into the
manifest list TAG in every registry, over the registries' HTTP API: no container engine needed.
Checks everything first and pushes nothing unless every image is there and of its architecture."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

from ci.errors import ReleaseImagesMissingError, ReleasePushError
from ci.planning.release import ArchImage
from ci.release import join_plan, registry

log = logging.getLogger(__name__)


def _fail(ref: str, reply: registry.Response, what: str) -> ReleasePushError:
    text = " ".join(reply.body.decode(errors="replace").split())[:200]
    return ReleasePushError(
        f"{what} {ref}: the registry answered {reply.status} {text}".rstrip(),
        hint="check the registry and your login (`docker login`)",
    )


def media_type_of(reply: registry.Response) -> str:
    header = next((v for k, v in reply.headers.items() if k.lower() == "content-type"), "")
    media_type = header.split(";")[0].strip()
    if media_type in join_plan.IMAGE_TYPES + join_plan.LIST_TYPES:
        return media_type
    try:  # some registries answer application/json; the manifest names its own type
        return str(json.loads(reply.body).get("mediaType", media_type))
    except (ValueError, AttributeError):
        return media_type


def read_image(reg: registry.Registry, name: str, tag: str) -> join_plan.Found | None:
    """What the registry holds under name:tag, with the platform its image config states."""
    ref = f"{reg.host}/{name}:{tag}"
    reply = reg.manifest(name, tag, join_plan.IMAGE_TYPES + join_plan.LIST_TYPES)
    if reply.status == 404:
        return None
    if reply.status != 200:
        raise _fail(ref, reply, "cannot read")
    media_type = media_type_of(reply)
    found = join_plan.Found(
        media_type=media_type, digest=join_plan.digest_of(reply.body), size=len(reply.body)
    )
    if media_type not in join_plan.IMAGE_TYPES:
        return found
    config_digest = str(json.loads(reply.body).get("config", {}).get("digest", ""))
    blob = reg.blob(name, config_digest)
    if blob.status != 200:
        raise _fail(ref, blob, f"cannot read the image config {config_digest} of")
    config = json.loads(blob.body)
    return join_plan.Found(
        media_type=media_type,
        digest=found.digest,
        size=found.size,
        os=str(config.get("os", "")),
        architecture=str(config.get("architecture", "")),
        variant=str(config.get("variant", "")),
    )


def join(
    tag: str, repositories: list[str], images: list[ArchImage], env: Mapping[str, str], insecure: str
) -> dict[str, str]:
    """Push the list tag to every repository; returns repository -> the list's digest. insecure:
    the insecure-registries setting (reached over plain http)."""
    config = registry.load_docker_config(env, Path.home())
    registries: dict[str, registry.Registry] = {}
    names: dict[str, tuple[registry.Registry, str]] = {}
    for repo in repositories:
        host, name = registry.split_repository(repo)
        registries.setdefault(host, registry.Registry(host, insecure, config))
        names[repo] = (registries[host], name)
    found = {(repo, i.tag): read_image(*names[repo], i.tag) for repo in repositories for i in images}
    wrong = join_plan.problems(images, repositories, found)
    if wrong:
        raise ReleaseImagesMissingError(
            f"cannot join {tag}; nothing was pushed: " + "; ".join(wrong),
            hint=f"push each with `./build.py --release {tag} --push ... -p PLATFORM --no-manifest` first",
        )
    digests: dict[str, str] = {}
    for repo in repositories:
        reg, name = names[repo]
        entries = [e for i in images if (e := found[(repo, i.tag)]) is not None]
        media_type, body = join_plan.manifest_list(entries)
        reply = reg.put_manifest(name, tag, media_type, body)
        if reply.status not in (200, 201):
            raise _fail(f"{repo}:{tag}", reply, "the registry refused the manifest list")
        digests[repo] = join_plan.digest_of(body)
    for repo in repositories:
        reg, name = names[repo]
        reply = reg.manifest(name, tag, join_plan.LIST_TYPES)
        if reply.status != 200:
            raise _fail(f"{repo}:{tag}", reply, "cannot read back")
        problem = join_plan.readback_problem(f"{repo}:{tag}", media_type_of(reply), reply.body, images)
        if problem is None and join_plan.digest_of(reply.body) != digests[repo]:
            problem = f"{repo}:{tag} reads back as {join_plan.digest_of(reply.body)}, not {digests[repo]}"
        if problem is not None:
            raise ReleasePushError(problem, hint="another push to the same tag may have raced this one")
        log.info("pushed manifest list %s:%s (%s)", repo, tag, ", ".join(i.docker_platform for i in images))
    return digests
