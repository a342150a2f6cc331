// retouch.tools.cutout._kernels: the cutout tool's pixel loops, one source file per Python module they serve.
#include "kernels.hpp"

PYBIND11_MODULE(_kernels, m) {
    m.doc() = "The cutout tool's compiled kernels (foreground, laplacian, matting, upsample).";
    retouch::cutout::bind_foreground(m);
    retouch::cutout::bind_laplacian(m);
    retouch::cutout::bind_matting(m);
    retouch::cutout::bind_upsample(m);
}
