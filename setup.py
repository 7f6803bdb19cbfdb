"""The C loops of data_svc (data_svc/kernels.c); everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "data_svc._kernels",
            ["data_svc/kernels.c"],
            # IEEE arithmetic as numpy's: the histogram's bins must match it value for value.
            extra_compile_args=["-O3", "-ffp-contract=off", "-fno-fast-math"],
        )
    ]
)
