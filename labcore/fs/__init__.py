"""Filesystem work: safe paths inside a root, layer apply and diff, overlay mounts.

* :mod:`labcore.fs.safepath` resolves names inside a rootfs as if it were ``/``, never leaving it;
* :mod:`labcore.fs.whiteout` names the OCI and overlayfs whiteout conventions;
* :mod:`labcore.fs.compression` opens gzip/zstd/plain layer blobs for streaming;
* :mod:`labcore.fs.apply` extracts a layer tarball onto a rootfs (``apply_layer``), refusing
  hostile entries and computing the diff_id;
* :mod:`labcore.fs.diff` writes deterministic layer tarballs from a tree (``tree_to_layer``), a
  lower/upper pair (``diff_trees``) or an overlayfs upper dir (``overlay_upper_to_layer``);
* :mod:`labcore.fs.overlay` mounts overlays and shows their lower/upper/merged views;
* :mod:`labcore.fs.tarstream`, :mod:`labcore.fs.tarheader` and :mod:`labcore.fs.hashing` are the
  streaming tar reader, the header writer and the background sha256 they share.
"""
