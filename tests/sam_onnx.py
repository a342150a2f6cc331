"""A generated ONNX pair with the input/output signature of the registry's mobile-sam files, and a simple rule.

Encoder: "input_image" (HxWx3 float32, the photo resized to a long side of 1024) -> "image_embeddings"
(1x256x64x64): the image's mean, times zero, everywhere. Decoder: segment-anything's export signature
(image_embeddings, point_coords, point_labels, mask_input, has_mask_input, orig_im_size -> masks, iou_predictions,
low_res_masks); the mask is the disk of radius RADIUS (in the 256x256 low-resolution frame of the padded
1024x1024 input, i.e. 4 times that in the resized photo) around the first point, its photo part enlarged to
orig_im_size as SAM's export does: a wrong coordinate frame moves it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

RADIUS = 24.0  # in the 256x256 low-resolution frame


def write_encoder(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    shape = helper.make_tensor("shape", TensorProto.INT64, [4], [1, 256, 64, 64])
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    nodes = [
        helper.make_node("ReduceMean", ["input_image"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Expand", ["nothing", "shape"], ["image_embeddings"]),
    ]
    graph = helper.make_graph(
        nodes,
        "encoder",
        [helper.make_tensor_value_info("input_image", TensorProto.FLOAT, ["h", "w", 3])],
        [helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT, [1, 256, 64, 64])],
        [shape, zero],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def write_decoder(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    ys, xs = np.mgrid[0:256, 0:256].astype(np.float32) + np.float32(0.5)
    constants = [
        numpy_helper.from_array(xs[None, None], "grid_x"),
        numpy_helper.from_array(ys[None, None], "grid_y"),
        numpy_helper.from_array(np.float32(0.25), "quarter"),
        numpy_helper.from_array(np.float32(RADIUS**2), "radius2"),
        numpy_helper.from_array(np.float32(256.0), "low_side"),
        numpy_helper.from_array(np.array([0, 0], np.int64), "starts"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
        numpy_helper.from_array(np.array([1, 1], np.int64), "batch"),
        numpy_helper.from_array(np.float32(0.0), "zero"),
        numpy_helper.from_array(np.array([[1.0]], np.float32), "iou"),
    ]
    nodes = [
        helper.make_node("GatherND", ["point_coords", "first_x_index"], ["px"]),
        helper.make_node("GatherND", ["point_coords", "first_y_index"], ["py"]),
        helper.make_node("Mul", ["px", "quarter"], ["lx"]),
        helper.make_node("Mul", ["py", "quarter"], ["ly"]),
        helper.make_node("Sub", ["grid_x", "lx"], ["dx"]),
        helper.make_node("Sub", ["grid_y", "ly"], ["dy"]),
        helper.make_node("Mul", ["dx", "dx"], ["dx2"]),
        helper.make_node("Mul", ["dy", "dy"], ["dy2"]),
        helper.make_node("Add", ["dx2", "dy2"], ["d2"]),
        helper.make_node("Sub", ["radius2", "d2"], ["disk"]),
        helper.make_node("ReduceMean", ["image_embeddings"], ["e"], keepdims=0),
        helper.make_node("Mul", ["e", "zero"], ["e0"]),
        helper.make_node("Add", ["disk", "e0"], ["low_res_masks"]),
        # the low-resolution frame covers the padded 1024x1024 square: keep the photo's part, enlarge it
        helper.make_node("ReduceMax", ["orig_im_size"], ["long"], keepdims=0),
        helper.make_node("Div", ["low_side", "long"], ["to_low"]),
        helper.make_node("Mul", ["orig_im_size", "to_low"], ["part_f"]),
        helper.make_node("Round", ["part_f"], ["part_r"]),
        helper.make_node("Cast", ["part_r"], ["part"], to=TensorProto.INT64),
        helper.make_node("Slice", ["low_res_masks", "starts", "part", "axes"], ["photo_part"]),
        helper.make_node("Cast", ["orig_im_size"], ["hw"], to=TensorProto.INT64),
        helper.make_node("Concat", ["batch", "hw"], ["sizes"], axis=0),
        helper.make_node("Resize", ["photo_part", "", "", "sizes"], ["masks"], mode="linear"),
        helper.make_node("Identity", ["iou"], ["iou_predictions"]),
    ]
    constants += [
        numpy_helper.from_array(np.array([[0, 0, 0]], np.int64), "first_x_index"),
        numpy_helper.from_array(np.array([[0, 0, 1]], np.int64), "first_y_index"),
    ]
    inputs = [
        helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT, [1, 256, 64, 64]),
        helper.make_tensor_value_info("point_coords", TensorProto.FLOAT, [1, "n", 2]),
        helper.make_tensor_value_info("point_labels", TensorProto.FLOAT, [1, "n"]),
        helper.make_tensor_value_info("mask_input", TensorProto.FLOAT, [1, 1, 256, 256]),
        helper.make_tensor_value_info("has_mask_input", TensorProto.FLOAT, [1]),
        helper.make_tensor_value_info("orig_im_size", TensorProto.FLOAT, [2]),
    ]
    outputs = [
        helper.make_tensor_value_info("masks", TensorProto.FLOAT, [1, 1, "h", "w"]),
        helper.make_tensor_value_info("iou_predictions", TensorProto.FLOAT, [1, 1]),
        helper.make_tensor_value_info("low_res_masks", TensorProto.FLOAT, [1, 1, 256, 256]),
    ]
    graph = helper.make_graph(nodes, "decoder", inputs, outputs, constants)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
