// KernelView (tests): the product's verify/KernelView, under the name the tests include.
#pragma once

#include "verify/KernelView.h"
