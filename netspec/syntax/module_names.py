"""The name an importer gives a module it makes of alike blocks, read from the block's shape:
`block` for branches that concatenate, `identity_block` for a residual add with an identity
shortcut, `projection_block` for one whose shortcut is a layer (He et al.'s names). Both
importers (Caffe prototxt, Keras) name their modules here."""

from __future__ import annotations

from netspec.syntax import ast


def module_name(group: ast.BranchGroup, taken: set[str]) -> str:
    """The group's name, numbered from 2 when taken already; added to `taken`."""
    mode = group.merge.mode if group.merge is not None else "concat"
    identity = any(
        len(branch.body) == 1
        and isinstance(branch.body[0], ast.LayerStmt)
        and branch.body[0].kind == "identity"
        for branch in group.branches
    )
    base = "block" if mode == "concat" else ("identity_block" if identity else "projection_block")
    name, number = base, 2
    while name in taken:
        name, number = f"{base}{number}", number + 1
    taken.add(name)
    return name
