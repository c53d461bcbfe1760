"""OCI images: references, manifests and configs, the content store, snapshots and rootfs mounts.

The store under ``settings().store`` *is* an OCI image layout, so ``skopeo``, ``umoci`` and other
OCI tools read it as it is. Modules, from pure data to disk state to filesystems:

* :mod:`.reference` (Docker's naming rules), :mod:`.mediatypes`, :mod:`.canonical` (JSON bytes),
  :mod:`.descriptor`, :mod:`.manifest` (manifests and indexes), :mod:`.imageconfig` (configs,
  chain ids), :mod:`.changes` (``--change`` instructions);
* :mod:`.atomic` (atomic writes, locks), :mod:`.blobs`, :mod:`.indexfile`, :mod:`.store`
  (:class:`~labcore.image.store.Store`), :mod:`.record`, :mod:`.gc` (``system prune``/``df``);
* :mod:`.layerstream`, :mod:`.snapshots`, :mod:`.rootfs` (overlay mount,
  flatten) and :mod:`.importer` (``labcore import``), which use :mod:`labcore.fs`.
"""
