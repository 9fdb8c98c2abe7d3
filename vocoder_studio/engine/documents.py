"""Opening a document where the vocoder registry is known: the model layer's
:func:`~vocoder_studio.document.open_document` plus the checks that need the installed vocoders (the document
layer does not see them)."""

from __future__ import annotations

import os
from pathlib import Path

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.document import Document, open_document
from vocoder_studio.errors import AudioFileError
from vocoder_studio.vocoders.registry import list_vocoders


def open_checked(path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG) -> Document:
    """:func:`~vocoder_studio.document.open_document`, and a project's ``vocoder`` field checked against the
    registry (built-in vocoders and installed plug-ins, whether or not their weights are present).

    Raises:
        AudioFileError: as ``open_document``; or the project names a vocoder this installation does not have
            (one line naming ``meta.json``'s ``vocoder`` field and the names it may hold).
    """
    doc = open_document(path, config)
    if doc.vocoder is not None:
        names = [entry.name for entry in list_vocoders()]
        if doc.vocoder not in names:
            raise AudioFileError(Path(f"{path}/meta.json"),
                                 f"field 'vocoder': {doc.vocoder!r} is not a vocoder of this installation (one of "
                                 f"{', '.join(names)}; a plug-in's name needs that plug-in installed)")
    return doc
