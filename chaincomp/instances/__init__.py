"""User files → :class:`~chaincomp.problem.Problem`: schemas, catalogs, SPEC §1.1 derivation,
loaders, embedded examples, network RTT data and instance generators.

Entry points: :func:`chaincomp.instances.load.load_problem`,
:func:`chaincomp.instances.load.load_instance_file`,
:func:`chaincomp.instances.examples.load_example`.
"""
