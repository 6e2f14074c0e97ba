#!/usr/bin/env bash
# The single-user image for Zero to JupyterHub, built the way Binder builds this repository:
# jupyter-repo2docker reads binder/ (environment.yml, then postBuild) and nothing else. Two
# differences, both for a graded class: the build context leaves out what only the instructor may
# read (solutions/ with the hidden tests, tests/, the gradebook), and deploy/k8s/appendix.Dockerfile
# pre-builds the lessons' data into the image. The course lands in /srv/medai-edu (outside the
# home, which Zero to JupyterHub mounts from each user's volume).
#
#   deploy/k8s/build-image.sh registry.example.org/medai-edu [--push]
#
# Needs docker (or podman) and Python; installs repo2docker into a virtualenv of its own.
set -euo pipefail
REPO2DOCKER="jupyter-repo2docker==2026.4.0"
PRIVATE=(solutions tests gradebook.db)
image="${1:?usage: deploy/k8s/build-image.sh IMAGE [--push]}"
shift
root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
tag="$(git -C "$root" rev-parse --short=12 HEAD)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$REPO2DOCKER"

# The committed course (git archive: no virtualenv, caches or local files), less the private parts.
mkdir "$work/context"
git -C "$root" archive --format=tar HEAD | tar -x -C "$work/context"
for path in "${PRIVATE[@]}"; do rm -rf "${work:?}/context/$path"; done

"$work/venv/bin/jupyter-repo2docker" --no-run --user-id 1000 --user-name jovyan \
  --target-repo-dir /srv/medai-edu \
  --appendix "$(cat "$root/deploy/k8s/appendix.Dockerfile")" \
  --image-name "$image:$tag" "$@" "$work/context"
echo "Built $image:$tag; set singleuser.image.name=$image and singleuser.image.tag=$tag in deploy/k8s/values.yaml"
