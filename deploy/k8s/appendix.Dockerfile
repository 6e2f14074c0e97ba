# Added after binder/postBuild by deploy/k8s/build-image.sh (jupyter-repo2docker --appendix).
# Nothing is installed here: the data every lesson reads and every lesson's results (demonstrations,
# explorer states: medai_edu/results.py) are built once into the image, read-only, so that no
# student's kernel generates or computes them (read through MEDAI_EDU_SHARED_CACHE; each student's
# own cache stays in the home). deploy/k8s/values.yaml is sized from kernels reading such a cache.
RUN python -m medai_edu.shared_cache build --into /srv/medai-edu/shared-cache --no-progress
ENV MEDAI_EDU_SHARED_CACHE=/srv/medai-edu/shared-cache
