# Added after binder/postBuild by deploy/k8s/build-image.sh (jupyter-repo2docker --appendix).
# Nothing is installed here: the data every lesson reads is built once into the image, read-only,
# so that no student's first run generates it (medai_edu/data/cache.py reads it through
# MEDAI_EDU_SHARED_CACHE; each student's own cache stays in the home).
RUN medai-edu cache build --into /srv/medai-edu/shared-cache --no-progress
ENV MEDAI_EDU_SHARED_CACHE=/srv/medai-edu/shared-cache
