"""Checks of the Kubernetes manifests a Katib user applies with katib-nas.

:mod:`~katib_nas.manifests.experiment_schema` holds the shape of Katib's v1beta1 Experiment (field
names and JSON types) as a JSON Schema; :mod:`~katib_nas.manifests.trial_images` knows the trial
images katib-nas publishes and which commands each accepts; :mod:`~katib_nas.manifests.check`
runs those two together with the local runner's admission checks
(:func:`katib_nas.runner.admission.check_experiment`) over every document of a YAML file.
"""
