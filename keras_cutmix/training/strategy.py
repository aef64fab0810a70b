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

`config.batch_size` is the global batch; Keras splits it across replicas. With `multi_worker`, every worker
runs the same command with its own `TF_CONFIG`; the chief writes to `workdir` and the other workers to
`workdir/workers/<type>_<id>` (`task_workdir`), so their checkpoints and results never collide on a shared file
system.
"""

import os

import keras
import tensorflow as tf

from keras_cutmix.training.config import STRATEGIES


# The dtypes TensorFlow's collective all-reduce accepts.
_COLLECTIVE_DTYPES = (tf.bfloat16, tf.float16, tf.float32, tf.float64, tf.int32, tf.int64)


class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """`tf.distribute.MultiWorkerMirroredStrategy` whose `reduce` takes what Keras 3 gives it.

    Keras 3's `Model.fit` calls `strategy.reduce` on a whole distributed batch (a tuple, with uint8 images) to
    learn its shapes, and on scalar logs (loss, metrics) with `axis=0`. The multi-worker strategy reduces single
    values only, its collective ops take no uint8, and a scalar has no axis 0, so `fit` fails on all three
    (keras-team/keras#20585). This `reduce` goes leaf by leaf, reduces other dtypes in float32 (cast back), and
    reduces scalars across replicas (`axis=None`): what `reduce` means for each. Nothing else changes.
    """

    def reduce(self, reduce_op, value, axis):
        reduce = super().reduce

        def leaf(v):
            local = self.experimental_local_results(v)[0]
            dtype = tf.as_dtype(local.dtype)
            leaf_axis = None if local.shape.rank == 0 else axis
            if dtype in _COLLECTIVE_DTYPES:
                return reduce(reduce_op, v, leaf_axis)
            wide = self.run(lambda x: tf.cast(x, tf.float32), args=(v,))
            return tf.cast(reduce(reduce_op, wide, leaf_axis), dtype)

        return tf.nest.map_structure(leaf, value)


class AverageNonTrainableAcrossWorkers(keras.callbacks.Callback):
    """Makes every worker's non-trainable float variables (BatchNorm statistics) equal.

    Under `MultiWorkerMirroredStrategy` gradients are all-reduced, so the trainable variables stay equal;
    BatchNorm's moving statistics are not: each worker updates them from its share of the batch. Before each
    evaluation and at the end of training this averages them over the workers. The moving mean is linear in the
    batch means, so the average is exactly the moving mean of the global batches; the moving variance becomes
    the mean of the shards' moving variances. Every worker then evaluates and saves the same model.

    Args:
        strategy: The strategy the model was built under.
    """

    def __init__(self, strategy):
        super().__init__()
        self.strategy = strategy
        self._average_fn = None

    def _average(self):
        if self._average_fn is None:  # One graph for all variables, traced once.
            variables = [v for v in self.model.non_trainable_variables if v.dtype.startswith("float")]

            @tf.function
            def average():
                for variable in variables:
                    local = self.strategy.run(tf.identity, args=(variable.value,))
                    variable.assign(self.strategy.reduce("MEAN", local, axis=None))

            self._average_fn = average
        self._average_fn()

    def on_test_begin(self, logs=None):
        self._average()

    def on_train_end(self, logs=None):
        self._average()


def get_strategy(name="default", tpu=""):
    """Returns the `tf.distribute.Strategy` called `name`.

    Args:
        name: One of `STRATEGIES` (see the module's table). Defaults to `"default"`.
        tpu: TPU name or address for `"tpu"` (`""`: local TPU or the environment's). Defaults to `""`.

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
        return MultiWorkerMirroredStrategy()
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
    jobs = strategy.cluster_resolver.cluster_spec().jobs
    return task == ("worker", 0) and "chief" not in jobs


def task_workdir(workdir, strategy):
    """`workdir` for the chief, `workdir/workers/<type>_<id>` for other workers."""
    if is_chief(strategy):
        return workdir
    task_type, task_id = _task(strategy)
    return os.path.join(workdir, "workers", f"{task_type}_{task_id}")
