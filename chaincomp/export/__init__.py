"""Turning a design (a :class:`~chaincomp.core.solution.Solution`) into deployment commands."""

from chaincomp.export.petals import PetalsExport, PetalsServer, petals_export

__all__ = ["PetalsExport", "PetalsServer", "petals_export"]
