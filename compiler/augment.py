"""Per-image crops and colour changes, with TensorFlow's own sampler, decoders and resizers.

Training crops follow Szegedy et al. 2015 (section 6) as TensorFlow's Inception and ResNet
reproductions implement it: `sample_distorted_bounding_box` over 8%-100% of the area with
aspect ratio 3/4-4/3, and for JPEGs only that window is decoded. Evaluation takes the
centre `fraction` of the image (0.875: 224 pixels of 256) and resizes it to the input.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

AREA_RANGE = (0.08, 1.0)
ASPECT_RANGE = (3 / 4, 4 / 3)
SAMPLING_ATTEMPTS = 10  # then the whole image, as TensorFlow's reproductions do
# TF-slim's Inception distortions, in pixel units of 0..255.
BRIGHTNESS_DELTA = 32.0
SATURATION_RANGE = (0.5, 1.5)
HUE_DELTA = 0.2
CONTRAST_RANGE = (0.5, 1.5)

Window = Callable[[tf.Tensor], tf.Tensor]  # image shape -> [y, x, height, width]


def random_window(shape: tf.Tensor) -> tf.Tensor:
    begin, size, _ = tf.image.sample_distorted_bounding_box(
        shape,
        bounding_boxes=tf.constant([[[0.0, 0.0, 1.0, 1.0]]]),
        min_object_covered=AREA_RANGE[0],
        aspect_ratio_range=ASPECT_RANGE,
        area_range=AREA_RANGE,
        max_attempts=SAMPLING_ATTEMPTS,
        use_image_if_no_bounding_boxes=True,
    )
    return tf.stack([begin[0], begin[1], size[0], size[1]])


def center_window(size: tuple[int, int], fraction: float) -> Window:
    """The largest box of the input's aspect ratio, scaled by `fraction`, centred."""

    def window(shape: tf.Tensor) -> tf.Tensor:
        height, width = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
        scale = tf.minimum(height / size[0], width / size[1]) * fraction
        crop_height = tf.clip_by_value(tf.round(size[0] * scale), 1, height)
        crop_width = tf.clip_by_value(tf.round(size[1] * scale), 1, width)
        window = [
            (height - crop_height) // 2,
            (width - crop_width) // 2,
            crop_height,
            crop_width,
        ]
        return tf.cast(tf.stack(window), tf.int32)

    return window


def whole_window(shape: tf.Tensor) -> tf.Tensor:
    return tf.stack([0, 0, shape[0], shape[1]])


def crop(image: tf.Tensor, window: tf.Tensor) -> tf.Tensor:
    return tf.slice(image, [window[0], window[1], 0], [window[2], window[3], -1])


def decode_window(encoded: tf.Tensor, window_of: Window) -> tf.Tensor:
    """RGB uint8 pixels of the window; JPEGs decode only the window. Grayscale, RGBA,
    palette and CMYK files all come out as RGB."""

    def jpeg() -> tf.Tensor:
        window = window_of(tf.image.extract_jpeg_shape(encoded))
        return tf.image.decode_and_crop_jpeg(encoded, window, channels=3)

    def other() -> tf.Tensor:
        image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
        return crop(image, window_of(tf.shape(image)))

    image = tf.cond(tf.io.is_jpeg(encoded), jpeg, other)
    image.set_shape([None, None, 3])
    return image


def distort(image: tf.Tensor) -> tf.Tensor:
    """Random brightness, saturation, hue and contrast on float RGB pixels in 0..255."""
    image = tf.image.random_brightness(image / 255.0, BRIGHTNESS_DELTA / 255.0)
    image = tf.image.random_saturation(image, *SATURATION_RANGE)
    image = tf.image.random_hue(image, HUE_DELTA)
    image = tf.image.random_contrast(image, *CONTRAST_RANGE)
    return tf.clip_by_value(image, 0.0, 1.0) * 255.0


def to_pixels(image: tf.Tensor, channels: int) -> tf.Tensor:
    """Float RGB -> uint8 with the network's channels."""
    if channels == 1:
        image = tf.image.rgb_to_grayscale(image)
    return tf.saturate_cast(tf.round(image), tf.uint8)
