"""`tf.distribute` strategies by name, so one script scales from 1 CPU to a pod.

    strategy = get_strategy("mirrored")
    with strategy.scope():
        model = ...; model.compile(...)

| name           | strategy                                    | where                         |
|----------------|---------------------------------------------|-------------------------------|
| `default`      | `tf.distribute.get_strategy()` (no-op)      | one CPU or GPU                |
| `mirrored`     | `MirroredStrategy`                          | all GPUs of one machine       |
| `multi_worker` | `MultiWorkerMirroredStrategy`               | several machines, `TF_CONFIG` |
| `tpu`          | `TPUStrategy` on `TPUClusterResolver(tpu)`  | a TPU host or pod slice       |

`config.batch_size` is the global batch; Keras splits it across replicas.
With `multi_worker`, every worker runs the same command with its own
`TF_CONFIG`; the chief writes to `workdir` and the other workers to
`workdir/workers/<type>_<id>` (`task_workdir`), so their checkpoints and
results never collide on a shared file system.
"""

import os

import tensorflow as tf

from keras_cutmix.training.config import STRATEGIES


def get_strategy(name="default", tpu=""):
    """Returns the `tf.distribute.Strategy` called `name`.

    Args:
        name: One of `"default"`, `"mirrored"`, `"multi_worker"`, `"tpu"`.
            Defaults to `"default"`.
        tpu: TPU name or address for `"tpu"` (`""`: local TPU or the
            environment's). Defaults to `""`.

    Returns:
        A `tf.distribute.Strategy`.

    Raises:
        ValueError: For an unknown `name`.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"Expected `name` to be one of {list(STRATEGIES)}. Received: name={name!r}")


def _task(strategy):
    """`(task_type, task_id)` of this process in a cluster, or None outside one."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return None
    return resolver.task_type, resolver.task_id


def is_chief(strategy):
    """Whether this process writes the run's files: the chief, or worker 0 without one."""
    task = _task(strategy)
    if task is None or task[0] in (None, "chief"):
        return True
    jobs = getattr(strategy, "cluster_resolver").cluster_spec().jobs
    return task == ("worker", 0) and "chief" not in jobs


def task_workdir(workdir, strategy):
    """`workdir` for the chief, `workdir/workers/<type>_<id>` for other workers."""
    if is_chief(strategy):
        return workdir
    task_type, task_id = _task(strategy)
    return os.path.join(workdir, "workers", f"{task_type}_{task_id}")
