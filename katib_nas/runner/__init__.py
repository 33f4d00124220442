"""The local runner: a Katib NAS Experiment run on one machine, end to end.

``katib-nas run EXPERIMENT.yaml`` reads the same Experiment that ``kubectl apply`` takes, checks
it as Katib's admission webhook would (:mod:`.admission`), starts the algorithm's suggestion
service (:mod:`.suggestion_client`), runs the trials as local processes (:mod:`.trials`),
collects their metrics as Katib's StdOut collector does (:mod:`.metrics`) and drives them with
Katib's controller loop (:mod:`.loop`), writing results and a report into a work directory
(:mod:`.results`, :mod:`.report`).
"""
