#ifndef CHORUS_COPENBLAS_SHIM_H
#define CHORUS_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
