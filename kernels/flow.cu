// Optical flow and its temporal reductions on the GPU: the twins of
// src/flow/ops.rs (flow) and src/flow/analysis.rs + camera.rs (reductions).
//
// Every kernel processes a batch: blockIdx.z selects the image, plane or flow.
// Arithmetic mirrors the CPU code expression by expression and is compiled
// with --fmad=false (no contraction into fused multiply-adds), so the flow
// fields match the CPU's to the last bit or nearly; only the order of the
// reductions differs (fixed-order trees here, sequential there, both in f64).
// Nothing here uses atomics: the same inputs give the same bits on every run.
//
// Layout: an image batch is `count` planes of w*h floats, row-major, one after
// another. A flow batch keeps u and v in two such batches. The structure
// tensor of flow z is 5 planes at j + z*5*w*h.

#define TILE 16

__device__ __forceinline__ int clampi(int i, int n) { return i < 0 ? 0 : (i > n - 1 ? n - 1 : i); }

__device__ __forceinline__ float bilinear(const float* src, int w, int h, float x, float y) {
    x = fminf(fmaxf(x, 0.0f), (float)(w - 1));
    y = fminf(fmaxf(y, 0.0f), (float)(h - 1));
    int x0 = (int)x, y0 = (int)y;
    int x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1);
    float fx = x - (float)x0, fy = y - (float)y0;
    float p00 = src[y0 * w + x0], p01 = src[y0 * w + x1];
    float p10 = src[y1 * w + x0], p11 = src[y1 * w + x1];
    float top = p00 + fx * (p01 - p00);
    float bottom = p10 + fx * (p11 - p10);
    return top + fy * (bottom - top);
}

#define PIXEL                                              \
    const int x = blockIdx.x * blockDim.x + threadIdx.x;   \
    const int y = blockIdx.y * blockDim.y + threadIdx.y;   \
    const long z = blockIdx.z;                             \
    if (x >= w || y >= h) return;                          \
    const long n = (long)w * h;                            \
    const long i = (long)y * w + x;

extern "C" __global__ void to_unit(const float* src, float* dst, int w, int h) {
    PIXEL
    dst[z * n + i] = src[z * n + i] / 255.0f;
}

// [1 4 6 4 1]/16 blur with replicated border, keeping even pixels; (w, h) is the output size.
extern "C" __global__ void downsample(const float* src, int ws, int hs, float* dst, int w, int h) {
    PIXEL
    const float k5[5] = {0.0625f, 0.25f, 0.375f, 0.25f, 0.0625f};
    const float* s = src + z * (long)ws * hs;
    float acc = 0.0f;
    for (int ky = 0; ky < 5; ky++) {
        int yy = clampi(2 * y + ky - 2, hs);
        float row = 0.0f;
        for (int kx = 0; kx < 5; kx++) {
            int xx = clampi(2 * x + kx - 2, ws);
            row += k5[kx] * s[yy * ws + xx];
        }
        acc += k5[ky] * row;
    }
    dst[z * n + i] = acc;
}

// Fine flow (w, h) from the coarse level (wc, hc): twice the bilinear sample at x/2.
extern "C" __global__ void upsample_flow(const float* coarse, int wc, int hc, float* fine, int w, int h) {
    PIXEL
    fine[z * n + i] = 2.0f * bilinear(coarse + z * (long)wc * hc, wc, hc, (float)x * 0.5f, (float)y * 0.5f);
}

// bw(p) = B(p + F(p)); B is frame b_index[z] of the level's frame batch.
extern "C" __global__ void warp(const float* frames, const int* b_index, const float* u, const float* v,
                                float* bw, int w, int h) {
    PIXEL
    const float* b = frames + (long)b_index[z] * n;
    bw[z * n + i] = bilinear(b, w, h, (float)x + u[z * n + i], (float)y + v[z * n + i]);
}

__device__ __forceinline__ float mean_at(const float* a, const float* bw, int w, int h, int x, int y) {
    long k = (long)clampi(y, h) * w + clampi(x, w);
    return (a[k] + bw[k]) * 0.5f;
}

extern "C" __global__ void tensor_products(const float* frames, const int* a_index, const float* bw,
                                           const float* u, const float* v, float* j, int w, int h) {
    PIXEL
    const float* a = frames + (long)a_index[z] * n;
    const float* b = bw + z * n;
    float gx = ((mean_at(a, b, w, h, x - 2, y) - mean_at(a, b, w, h, x + 2, y)) +
                8.0f * (mean_at(a, b, w, h, x + 1, y) - mean_at(a, b, w, h, x - 1, y))) / 12.0f;
    float gy = ((mean_at(a, b, w, h, x, y - 2) - mean_at(a, b, w, h, x, y + 2)) +
                8.0f * (mean_at(a, b, w, h, x, y + 1) - mean_at(a, b, w, h, x, y - 1))) / 12.0f;
    float tx = (float)x + u[z * n + i], ty = (float)y + v[z * n + i];
    bool inside = tx >= 0.0f && tx <= (float)(w - 1) && ty >= 0.0f && ty <= (float)(h - 1);
    if (!inside) { gx = 0.0f; gy = 0.0f; }
    float gt = b[i] - a[i];
    float* jz = j + z * 5 * n;
    jz[i] = gx * gx;
    jz[n + i] = gx * gy;
    jz[2 * n + i] = gy * gy;
    jz[3 * n + i] = gx * gt;
    jz[4 * n + i] = gy * gt;
}

extern "C" __global__ void blur_h(const float* src, float* dst, int w, int h, const float* taps, int count) {
    PIXEL
    const int r = count / 2;
    const float* row = src + z * n + (long)y * w;
    float acc = 0.0f;
    for (int k = 0; k < count; k++) acc += taps[k] * row[clampi(x + k - r, w)];
    dst[z * n + i] = acc;
}

extern "C" __global__ void blur_v(const float* src, float* dst, int w, int h, const float* taps, int count) {
    PIXEL
    const int r = count / 2;
    const float* p = src + z * n;
    float acc = 0.0f;
    for (int k = 0; k < count; k++) acc += taps[k] * p[(long)clampi(y + k - r, h) * w + x];
    dst[z * n + i] = acc;
}

// One red-black half-sweep of the CLG system (see sor_update in ops.rs).
extern "C" __global__ void sor(const float* j, const float* u0, const float* v0, float* du, float* dv,
                               int w, int h, int colour, float alpha, float omega) {
    PIXEL
    if (((x + y) & 1) != colour) return;
    const float* jz = j + z * 5 * n;
    const float* U = u0 + z * n;
    const float* V = v0 + z * n;
    float* DU = du + z * n;
    float* DV = dv + z * n;
    float su = 0.0f, sv = 0.0f, cnt = 0.0f;
    if (y > 0) { su += U[i - w] + DU[i - w]; sv += V[i - w] + DV[i - w]; cnt += 1.0f; }
    if (y + 1 < h) { su += U[i + w] + DU[i + w]; sv += V[i + w] + DV[i + w]; cnt += 1.0f; }
    if (x > 0) { su += U[i - 1] + DU[i - 1]; sv += V[i - 1] + DV[i - 1]; cnt += 1.0f; }
    if (x + 1 < w) { su += U[i + 1] + DU[i + 1]; sv += V[i + 1] + DV[i + 1]; cnt += 1.0f; }
    float ru = alpha * (su - cnt * U[i]) - jz[3 * n + i];
    float rv = alpha * (sv - cnt * V[i]) - jz[4 * n + i];
    float a11 = jz[i] + cnt * alpha;
    float a12 = jz[n + i];
    float a22 = jz[2 * n + i] + cnt * alpha;
    float det = a11 * a22 - a12 * a12;
    float nu = (a22 * ru - a12 * rv) / det;
    float nv = (a11 * rv - a12 * ru) / det;
    DU[i] = (1.0f - omega) * DU[i] + omega * nu;
    DV[i] = (1.0f - omega) * DV[i] + omega * nv;
}

extern "C" __global__ void add_increment(float* u, float* v, const float* du, const float* dv, int w, int h) {
    PIXEL
    u[z * n + i] += du[z * n + i];
    v[z * n + i] += dv[z * n + i];
}

// Exact median of a SIDE x SIDE window (replicated border): the value with
// fewer than half the window below it and at least half at or below it.
template <int SIDE>
__device__ void median_impl(const float* src, float* dst, int w, int h) {
    PIXEL
    const int R = SIDE / 2, N = SIDE * SIDE;
    const float* p = src + z * n;
    float win[N];
#pragma unroll
    for (int dy = -R; dy <= R; dy++)
#pragma unroll
        for (int dx = -R; dx <= R; dx++)
            win[(dy + R) * SIDE + dx + R] = p[(long)clampi(y + dy, h) * w + clampi(x + dx, w)];
    float m = win[0];
#pragma unroll
    for (int a = 0; a < N; a++) {
        int below = 0, at_or_below = 0;
#pragma unroll
        for (int b = 0; b < N; b++) {
            below += win[b] < win[a];
            at_or_below += win[b] <= win[a];
        }
        if (below <= N / 2 && at_or_below > N / 2) m = win[a];
    }
    dst[z * n + i] = m;
}

extern "C" __global__ void median3(const float* src, float* dst, int w, int h) { median_impl<3>(src, dst, w, h); }
extern "C" __global__ void median5(const float* src, float* dst, int w, int h) { median_impl<5>(src, dst, w, h); }
extern "C" __global__ void median7(const float* src, float* dst, int w, int h) { median_impl<7>(src, dst, w, h); }

// ---------------------------------------------------------------- reductions

// Sum K doubles per thread over the 16x16 tile in a fixed tree order; thread 0
// writes them to out[(z * tiles + tile) * K + k].
template <int K>
__device__ void tile_reduce(double (*vals)[TILE * TILE], const double* mine, double* out) {
    const int t = threadIdx.y * TILE + threadIdx.x;
    for (int k = 0; k < K; k++) vals[k][t] = mine[k];
    __syncthreads();
    for (int s = TILE * TILE / 2; s > 0; s >>= 1) {
        if (t < s)
            for (int k = 0; k < K; k++) vals[k][t] += vals[k][t + s];
        __syncthreads();
    }
    if (t == 0) {
        const long tiles = (long)gridDim.x * gridDim.y;
        const long tile = (long)blockIdx.y * gridDim.x + blockIdx.x;
        for (int k = 0; k < K; k++) out[((long)blockIdx.z * tiles + tile) * K + k] = vals[k][0];
    }
}

#define TILE_PIXEL                                              \
    const int x = blockIdx.x * TILE + threadIdx.x;              \
    const int y = blockIdx.y * TILE + threadIdx.y;              \
    const long z = blockIdx.z;                                  \
    const bool in_frame = x < w && y < h;                       \
    const long n = (long)w * h;                                 \
    const long i = in_frame ? (long)y * w + x : 0;

__device__ __forceinline__ float gradient_at(const float* p, long i, int pos, int len, long stride) {
    if (len < 2) return 0.0f;
    if (pos == 0) return p[i + stride] - p[i];
    if (pos == len - 1) return p[i] - p[i - stride];
    return (p[i + stride] - p[i - stride]) * 0.5f;
}

// Per pair z: reliability (see analysis.rs) and the residual. Per tile:
// [reliable count, Σ r² (reliable), Σ |F|, Σ u, Σ v, pixels]. mask[z*n + i] = reliable.
extern "C" __global__ void pair_check(const float* frames, const int* a_index, const int* b_index,
                                      const float* fu_all, const float* fv_all,
                                      const float* gu_all, const float* gv_all,
                                      unsigned char* mask, double* out, int w, int h) {
    __shared__ double vals[6][TILE * TILE];
    TILE_PIXEL
    double mine[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    if (in_frame) {
        const float* a = frames + (long)a_index[z] * n;
        const float* b = frames + (long)b_index[z] * n;
        const float* FU = fu_all + z * n;
        const float* FV = fv_all + z * n;
        const float* GU = gu_all + z * n;
        const float* GV = gv_all + z * n;
        float fu = FU[i], fv = FV[i];
        float tx = (float)x + fu, ty = (float)y + fv;
        bool inside = tx >= 0.0f && tx <= (float)(w - 1) && ty >= 0.0f && ty <= (float)(h - 1);
        float bw = bilinear(b, w, h, tx, ty);
        float gu = bilinear(GU, w, h, tx, ty);
        float gv = bilinear(GV, w, h, tx, ty);
        float su = fu + gu, sv = fv + gv;
        float f2 = fu * fu + fv * fv;
        bool disagree = su * su + sv * sv > 0.01f * (f2 + (gu * gu + gv * gv)) + 0.5f;
        float ux = gradient_at(FU, i, x, w, 1);
        float uy = gradient_at(FU, i, y, h, w);
        float vx = gradient_at(FV, i, x, w, 1);
        float vy = gradient_at(FV, i, y, h, w);
        bool boundary = (ux * ux + uy * uy) + (vx * vx + vy * vy) > 0.01f * f2 + 0.002f;
        bool ok = inside && !disagree && !boundary;
        float r = bw - a[i];
        mask[z * n + i] = ok ? 1 : 0;
        mine[2] = (double)sqrtf(fu * fu + fv * fv);
        mine[3] = (double)fu;
        mine[4] = (double)fv;
        mine[5] = 1.0;
        if (ok) {
            mine[0] = 1.0;
            mine[1] = (double)r * (double)r;
        }
    }
    tile_reduce<6>(vals, mine, out);
}

// Per pair z and tile: the brightness change along the tile's mean flow (a
// rigid shift, from pair_check's sums), [Σ (B(p + F̄) − A(p)), count] over
// pixels whose shifted position is inside the frame.
extern "C" __global__ void block_shift_residual(const float* frames, const int* a_index, const int* b_index,
                                                const double* tile6, double* out, int w, int h) {
    __shared__ double vals[2][TILE * TILE];
    TILE_PIXEL
    double mine[2] = {0.0, 0.0};
    if (in_frame) {
        const long tiles = (long)gridDim.x * gridDim.y;
        const long tile = (long)blockIdx.y * gridDim.x + blockIdx.x;
        const double* t = tile6 + (z * tiles + tile) * 6;
        float du = (float)(t[3] / t[5]), dv = (float)(t[4] / t[5]);
        float tx = (float)x + du, ty = (float)y + dv;
        if (tx >= 0.0f && tx <= (float)(w - 1) && ty >= 0.0f && ty <= (float)(h - 1)) {
            const float* a = frames + (long)a_index[z] * n;
            const float* b = frames + (long)b_index[z] * n;
            mine[0] = (double)(bilinear(b, w, h, tx, ty) - a[i]);
            mine[1] = 1.0;
        }
    }
    tile_reduce<2>(vals, mine, out);
}

// One IRLS pass of the camera fit (camera.rs): per tile the 8 normal-equation
// sums over reliable pixels. theta: 4 floats per pair; pass 0 weighs all 1.
extern "C" __global__ void camera_sums(const float* fu_all, const float* fv_all, const unsigned char* mask,
                                       const float* theta, int pass, double* out, int w, int h) {
    __shared__ double vals[8][TILE * TILE];
    TILE_PIXEL
    double mine[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    if (in_frame && mask[z * n + i]) {
        float u = fu_all[z * n + i], v = fv_all[z * n + i];
        float xc = (float)x - (float)(w - 1) * 0.5f;
        float yc = (float)y - (float)(h - 1) * 0.5f;
        float wt = 1.0f;
        if (pass > 0) {
            const float* t = theta + z * 4;
            float mu = t[0] + t[2] * xc - t[3] * yc;
            float mv = t[1] + t[3] * xc + t[2] * yc;
            float ru = u - mu, rv = v - mv;
            float q = (ru * ru + rv * rv) / (1.0f * 1.0f);
            wt = 1.0f / (1.0f + q);
        }
        double W = wt, X = xc, Y = yc, U = u, V = v;
        mine[0] = W;
        mine[1] = W * X;
        mine[2] = W * Y;
        mine[3] = W * (X * X + Y * Y);
        mine[4] = W * U;
        mine[5] = W * V;
        mine[6] = W * (X * U + Y * V);
        mine[7] = W * (X * V - Y * U);
    }
    tile_reduce<8>(vals, mine, out);
}

// Σ |F − model| over reliable pixels, per tile.
extern "C" __global__ void object_sums(const float* fu_all, const float* fv_all, const unsigned char* mask,
                                       const float* theta, double* out, int w, int h) {
    __shared__ double vals[1][TILE * TILE];
    TILE_PIXEL
    double mine[1] = {0.0};
    if (in_frame && mask[z * n + i]) {
        float u = fu_all[z * n + i], v = fv_all[z * n + i];
        float xc = (float)x - (float)(w - 1) * 0.5f;
        float yc = (float)y - (float)(h - 1) * 0.5f;
        const float* t = theta + z * 4;
        float mu = t[0] + t[2] * xc - t[3] * yc;
        float mv = t[1] + t[3] * xc + t[2] * yc;
        float ru = u - mu, rv = v - mv;
        mine[0] = (double)sqrtf(ru * ru + rv * rv);
    }
    tile_reduce<1>(vals, mine, out);
}

// Trajectory acceleration for triple z: flows first[z] (its reliability mask
// mask_index[z]) and second[z]. Per tile: [Σ |a|, Σ |F1|, count].
extern "C" __global__ void triple_sums(const float* fu_all, const float* fv_all, const unsigned char* mask,
                                       const int* first, const int* second, const int* mask_index,
                                       double* out, int w, int h) {
    __shared__ double vals[3][TILE * TILE];
    TILE_PIXEL
    double mine[3] = {0.0, 0.0, 0.0};
    if (in_frame && mask[(long)mask_index[z] * n + i]) {
        const float* U1 = fu_all + (long)first[z] * n;
        const float* V1 = fv_all + (long)first[z] * n;
        const float* U2 = fu_all + (long)second[z] * n;
        const float* V2 = fv_all + (long)second[z] * n;
        float qx = (float)x + U1[i], qy = (float)y + V1[i];
        float au = bilinear(U2, w, h, qx, qy) - U1[i];
        float av = bilinear(V2, w, h, qx, qy) - V1[i];
        mine[0] = (double)sqrtf(au * au + av * av);
        mine[1] = (double)sqrtf(U1[i] * U1[i] + V1[i] * V1[i]);
        mine[2] = 1.0;
    }
    tile_reduce<3>(vals, mine, out);
}

// out[z*k + j] = Σ over tiles t (in order) of in[(z*tiles + t)*k + j]; one thread per (z, j).
extern "C" __global__ void sum_tiles(const double* in, double* out, int tiles, int k, int count) {
    const long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long)count * k) return;
    const long z = idx / k, j = idx % k;
    double acc = 0.0;
    for (int t = 0; t < tiles; t++) acc += in[(z * tiles + t) * k + j];
    out[idx] = acc;
}
