"""Installs keras_cutmix: CutMix, MixUp and Cutout for TensorFlow 2 / Keras 3."""

import setuptools

setuptools.setup(
    name="keras_cutmix",
    version="0.1.0",
    description=(
        "Paper-exact CutMix (Yun et al., ICCV 2019) for Keras 3 and tf.data, "
        "with the paper's baselines, evaluation tools and experiments."
    ),
    packages=setuptools.find_packages(include=["keras_cutmix", "keras_cutmix.*"]),
    python_requires=">=3.11",  # keras-hub needs 3.11
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.0",
        # The paper's ResNet-50 is keras-hub's ResNetBackbone (resnet50.py).
        "keras-hub>=0.32",
        # keras-hub reads timm checkpoints (hf://timm/resnet50.tv_in1k, ResNet-50's weights="imagenet") with it.
        "safetensors",
        "tensorflow-datasets>=4.9",
        # tensorflow-datasets imports it but does not declare it.
        "importlib_resources",
        "absl-py",
        # keras.callbacks.TensorBoard needs it; the training scripts log there.
        "tensorboard",
        "matplotlib",
        "scipy",
        # Compiles the union-find sweep of MaxBoxAcc (localization/_sweep.py): 15x wsolevaluation's OpenCV loop.
        "numba",
    ],
    # captioning: pycocoevalcap, the COCO caption evaluation code (BLEU, METEOR, ROUGE-L, CIDEr; its tokenizer
    # and METEOR need Java). dev: the tests' references, opencv-python-headless (the wsolevaluation port of
    # MaxBoxAcc) and scikit-learn (the OOD detection metrics), and pycocoevalcap, whose scorer is tested.
    extras_require={
        "captioning": ["pycocoevalcap"],
        "dev": ["pytest", "pytest-xdist", "opencv-python-headless", "scikit-learn", "pycocoevalcap"],
    },
)
