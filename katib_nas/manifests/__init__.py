"""Checks of the Kubernetes manifests a Katib user applies with katib-nas.

:mod:`~katib_nas.manifests.experiment_schema` holds the shape of Katib's v1beta1 Experiment
(field names and JSON types) as a JSON Schema; :mod:`~katib_nas.manifests.algorithm` runs the
suggestion services' own validation of the search space and settings;
:mod:`~katib_nas.manifests.trial_images` knows the trial images katib-nas publishes and which
commands each accepts; :mod:`~katib_nas.manifests.check` runs them all together with the local
runner's admission checks (:func:`katib_nas.runner.admission.check_experiment`).
``python -m katib_nas.manifests FILE...`` is the command line.
"""
