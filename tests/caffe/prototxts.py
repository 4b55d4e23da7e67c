"""Small prototxts built in code: the published files are measured, not committed."""

from __future__ import annotations


def layer(name: str, kind: str, bottoms: list[str], tops: list[str], params: str = "") -> str:
    lines = [f'  name: "{name}"', f'  type: "{kind}"']
    lines += [f'  bottom: "{each}"' for each in bottoms]
    lines += [f'  top: "{each}"' for each in tops]
    return "layer {\n" + "\n".join(lines) + (f"\n  {params}" if params else "") + "\n}\n"


def conv(name: str, bottom: str, filters: int, kernel: int, extra: str = "") -> str:
    params = f"convolution_param {{ num_output: {filters} kernel_size: {kernel} {extra} }}"
    return layer(name, "Convolution", [bottom], [name], params) + layer(
        f"{name}_relu", "ReLU", [name], [name]
    )


def pool(name: str, bottom: str, kind: str, kernel: int, stride: int, pad: int = 0) -> str:
    params = f"pooling_param {{ pool: {kind} kernel_size: {kernel} stride: {stride} pad: {pad} }}"
    return layer(name, "Pooling", [bottom], [name], params)


def input_layer(size: int, channels: int = 3) -> str:
    shape = f"input_param {{ shape: {{ dim: 1 dim: {channels} dim: {size} dim: {size} }} }}"
    return layer("data", "Input", [], ["data"], shape)


def inception(name: str, bottom: str, widths: tuple[int, ...]) -> str:
    one, reduce3, three, reduce5, five, proj = widths
    return (
        conv(f"{name}/1x1", bottom, one, 1)
        + conv(f"{name}/3x3_reduce", bottom, reduce3, 1)
        + conv(f"{name}/3x3", f"{name}/3x3_reduce", three, 3, "pad: 1")
        + conv(f"{name}/5x5_reduce", bottom, reduce5, 1)
        + conv(f"{name}/5x5", f"{name}/5x5_reduce", five, 5, "pad: 2")
        + pool(f"{name}/pool", bottom, "MAX", 3, 1, 1)
        + conv(f"{name}/pool_proj", f"{name}/pool", proj, 1)
        + layer(
            f"{name}/output",
            "Concat",
            [f"{name}/1x1", f"{name}/3x3", f"{name}/5x5", f"{name}/pool_proj"],
            [f"{name}/output"],
        )
    )


def classifier(bottom: str, classes: int = 10) -> str:
    return layer(
        "fc", "InnerProduct", [bottom], ["fc"], f"inner_product_param {{ num_output: {classes} }}"
    ) + layer("prob", "Softmax", ["fc"], ["prob"])
