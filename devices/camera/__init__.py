"""The document camera (高拍仪): the contract, its backends chosen by URL, and the safe image decoder.

`load_image` is the one way image files from outside (USB sticks, phones, the camera) become pixels: it
checks the header size and the file's integrity before OpenCV decodes anything.
"""

from devices.camera.camera import (
    MAX_IMAGE_PIXELS,
    PREVIEW_WIDTH,
    BadImage,
    CameraError,
    CameraLost,
    CameraUnavailable,
    DocumentCamera,
    ImageTooLarge,
)
from devices.camera.factory import create_camera
from devices.camera.sources import image_header, load_image

__all__ = [
    "MAX_IMAGE_PIXELS",
    "PREVIEW_WIDTH",
    "BadImage",
    "CameraError",
    "CameraLost",
    "CameraUnavailable",
    "DocumentCamera",
    "ImageTooLarge",
    "create_camera",
    "image_header",
    "load_image",
]
