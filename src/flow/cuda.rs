//! The CUDA engine: a thin safe wrapper that launches the kernels of
//! `kernels/flow.cu` (compiled to PTX by build.rs) through cudarc. Frames,
//! pyramids, flow fields and masks stay on the device; per pair only the
//! reductions come back. Whole clips are batched together (every kernel runs
//! over all flows of the batch at once), in chunks sized to the free memory.

use super::analysis::{self, ClipFlow, PairStats, TripleStats};
use super::camera::{self, CameraMotion, NormalSums};
use super::pyramid::level_sizes;
use super::{check_pair, FlowEngine, FlowError, FlowField, FlowParams};
use crate::frames::Plane;
use cudarc::driver::{
    sys, CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg,
};
use std::sync::{Arc, Mutex};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/flow.ptx"));
const TILE: usize = 16;
/// gridDim.z is at most 65535 and the tensor blur runs over 5 planes per flow.
const MAX_FLOWS_PER_LAUNCH: usize = 8192;

fn device(e: impl std::fmt::Display) -> FlowError {
    FlowError::Device(e.to_string())
}

struct Kernels {
    to_unit: CudaFunction,
    downsample: CudaFunction,
    upsample_flow: CudaFunction,
    warp: CudaFunction,
    tensor_products: CudaFunction,
    blur_h: CudaFunction,
    blur_v: CudaFunction,
    sor: CudaFunction,
    add_increment: CudaFunction,
    median: CudaFunction,
    pair_check: CudaFunction,
    block_shift_residual: CudaFunction,
    camera_sums: CudaFunction,
    object_sums: CudaFunction,
    triple_sums: CudaFunction,
    sum_tiles: CudaFunction,
}

pub struct CudaFlow {
    params: FlowParams,
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    k: Kernels,
    taps: Vec<f32>,
    /// One batch at a time: the engine may be shared by threads.
    busy: Mutex<()>,
}

/// Frames of one size on the device, at every pyramid level.
struct DeviceFrames {
    sizes: Vec<(usize, usize)>,
    levels: Vec<CudaSlice<f32>>,
}

/// Level-0 flow fields of a batch: u and v, `count` planes each.
struct DeviceFlows {
    u: CudaSlice<f32>,
    v: CudaSlice<f32>,
}

/// Launch `kernel` on the engine's stream with the given arguments.
macro_rules! launch {
    ($engine:expr, $kernel:expr, $cfg:expr; $($arg:expr),* $(,)?) => {{
        let mut l = $engine.stream.launch_builder($kernel);
        $( l.arg($arg); )*
        // SAFETY: every kernel bounds-checks its pixel against (w, h) and only
        // touches planes z < gridDim.z of buffers allocated for that many.
        unsafe { l.launch($cfg) }.map(|_| ()).map_err(device)
    }};
}

fn grid(w: usize, h: usize, z: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (w.div_ceil(TILE) as u32, h.div_ceil(TILE) as u32, z as u32),
        block_dim: (TILE as u32, TILE as u32, 1),
        shared_mem_bytes: 0,
    }
}

impl CudaFlow {
    pub fn new(params: FlowParams, ordinal: usize) -> Result<Self, FlowError> {
        let ctx = CudaContext::new(ordinal).map_err(|e| FlowError::Unavailable(e.to_string()))?;
        let stream = ctx.default_stream();
        let module = ctx
            .load_module(cudarc::nvrtc::Ptx::from_src(PTX))
            .map_err(device)?;
        let f = |name: &str| module.load_function(name).map_err(device);
        let median = match params.median {
            7 => "median7",
            5 => "median5",
            _ => "median3",
        };
        let k = Kernels {
            to_unit: f("to_unit")?,
            downsample: f("downsample")?,
            upsample_flow: f("upsample_flow")?,
            warp: f("warp")?,
            tensor_products: f("tensor_products")?,
            blur_h: f("blur_h")?,
            blur_v: f("blur_v")?,
            sor: f("sor")?,
            add_increment: f("add_increment")?,
            median: f(median)?,
            pair_check: f("pair_check")?,
            block_shift_residual: f("block_shift_residual")?,
            camera_sums: f("camera_sums")?,
            object_sums: f("object_sums")?,
            triple_sums: f("triple_sums")?,
            sum_tiles: f("sum_tiles")?,
        };
        Ok(Self {
            taps: params.window_taps(),
            params,
            ctx,
            stream,
            k,
            busy: Mutex::new(()),
        })
    }

    pub fn device_name(&self) -> String {
        self.ctx.name().unwrap_or_else(|_| "unknown GPU".into())
    }

    /// Peak DRAM bandwidth from the device's memory clock and bus width.
    pub fn peak_bandwidth_bytes_per_s(&self) -> f64 {
        let attr = |a| self.ctx.attribute(a).unwrap_or(0) as f64;
        let clock_khz = attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE);
        let bus_bits = attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
        2.0 * clock_khz * 1e3 * bus_bits / 8.0
    }

    /// DRAM traffic the analysis of `pairs` pairs at w x h implies, counting
    /// each kernel's plane reads and writes once (neighbour reads hit the
    /// caches): a model, not a measurement.
    pub fn modelled_bytes(&self, w: usize, h: usize, pairs: usize) -> f64 {
        let p = &self.params;
        let per_warp = 45.0 + 11.0 * p.sor_iterations as f64;
        let per_flow: f64 = level_sizes(w, h, p)
            .iter()
            .map(|&(lw, lh)| (lw * lh) as f64 * (p.warps as f64 * per_warp + 3.0))
            .sum::<f64>()
            * 4.0;
        let per_pair_stats = (w * h) as f64 * (4.0 * 10.0 + 1.0 + 6.0 * 4.0 * 3.0);
        pairs as f64 * (2.0 * per_flow + per_pair_stats)
    }

    /// Upload frames (all the same size) and build their pyramids.
    fn upload(&self, frames: &[&Plane]) -> Result<DeviceFrames, FlowError> {
        let (w, h) = (frames[0].width, frames[0].height);
        let sizes = level_sizes(w, h, &self.params);
        let mut host = Vec::with_capacity(frames.len() * w * h);
        for f in frames {
            host.extend_from_slice(&f.data);
        }
        let raw = self.stream.clone_htod(&host).map_err(device)?;
        let mut base = self.stream.alloc_zeros::<f32>(host.len()).map_err(device)?;
        let (wi, hi) = (w as i32, h as i32);
        launch!(self, &self.k.to_unit, grid(w, h, frames.len()); &raw, &mut base, &wi, &hi)?;
        let mut levels = vec![base];
        for pair in sizes.windows(2) {
            let ((ws, hs), (wd, hd)) = (pair[0], pair[1]);
            let mut next = self
                .stream
                .alloc_zeros::<f32>(frames.len() * wd * hd)
                .map_err(device)?;
            let src = levels.last().expect("level 0");
            let (wsi, hsi, wdi, hdi) = (ws as i32, hs as i32, wd as i32, hd as i32);
            launch!(self, &self.k.downsample, grid(wd, hd, frames.len());
                src, &wsi, &hsi, &mut next, &wdi, &hdi)?;
            levels.push(next);
        }
        Ok(DeviceFrames { sizes, levels })
    }

    /// Flow from frame a_index[z] to frame b_index[z] for every z.
    fn solve(
        &self,
        frames: &DeviceFrames,
        a_index: &[i32],
        b_index: &[i32],
    ) -> Result<DeviceFlows, FlowError> {
        let p = &self.params;
        let count = a_index.len();
        let (w0, h0) = frames.sizes[0];
        let plane = count * w0 * h0;
        let s = &self.stream;
        let alloc = |len: usize| s.alloc_zeros::<f32>(len).map_err(device);
        let a_dev = s.clone_htod(a_index).map_err(device)?;
        let b_dev = s.clone_htod(b_index).map_err(device)?;
        let taps = s.clone_htod(&self.taps).map_err(device)?;
        let ntaps = self.taps.len() as i32;
        let (mut u, mut v, mut u2, mut v2) =
            (alloc(plane)?, alloc(plane)?, alloc(plane)?, alloc(plane)?);
        let (mut du, mut dv, mut bw) = (alloc(plane)?, alloc(plane)?, alloc(plane)?);
        let (mut j, mut tmp) = (alloc(5 * plane)?, alloc(5 * plane)?);
        let top = frames.sizes.len() - 1;
        for level in (0..=top).rev() {
            let (w, h) = frames.sizes[level];
            let (wi, hi) = (w as i32, h as i32);
            let len = count * w * h;
            let cfg = grid(w, h, count);
            let fr = &frames.levels[level];
            if level < top {
                let (wc, hc) = frames.sizes[level + 1];
                let (wci, hci) = (wc as i32, hc as i32);
                for (coarse, fine) in [(&u, &mut u2), (&v, &mut v2)] {
                    launch!(self, &self.k.upsample_flow, cfg; coarse, &wci, &hci, fine, &wi, &hi)?;
                }
                std::mem::swap(&mut u, &mut u2);
                std::mem::swap(&mut v, &mut v2);
            }
            for _ in 0..p.warps {
                launch!(self, &self.k.warp, cfg; fr, &b_dev, &u, &v, &mut bw, &wi, &hi)?;
                launch!(self, &self.k.tensor_products, cfg; fr, &a_dev, &bw, &u, &v, &mut j, &wi, &hi)?;
                let planes = grid(w, h, 5 * count);
                launch!(self, &self.k.blur_h, planes; &j, &mut tmp, &wi, &hi, &taps, &ntaps)?;
                launch!(self, &self.k.blur_v, planes; &tmp, &mut j, &wi, &hi, &taps, &ntaps)?;
                s.memset_zeros(&mut du.slice_mut(0..len)).map_err(device)?;
                s.memset_zeros(&mut dv.slice_mut(0..len)).map_err(device)?;
                for _ in 0..p.sor_iterations {
                    for colour in 0..2i32 {
                        launch!(self, &self.k.sor, cfg; &j, &u, &v, &mut du, &mut dv, &wi, &hi, &colour, &p.alpha, &p.sor_omega)?;
                    }
                }
                launch!(self, &self.k.add_increment, cfg; &mut u, &mut v, &du, &dv, &wi, &hi)?;
                if p.median > 1 {
                    for (src, dst) in [(&u, &mut u2), (&v, &mut v2)] {
                        launch!(self, &self.k.median, cfg; src, dst, &wi, &hi)?;
                    }
                    std::mem::swap(&mut u, &mut u2);
                    std::mem::swap(&mut v, &mut v2);
                }
            }
        }
        Ok(DeviceFlows { u, v })
    }

    /// Per-tile sums of a reduction kernel, summed over tiles on the device.
    fn sum_tiles(
        &self,
        tiles_out: &CudaSlice<f64>,
        tiles: usize,
        k: usize,
        count: usize,
    ) -> Result<Vec<f64>, FlowError> {
        let mut out = self.stream.alloc_zeros::<f64>(count * k).map_err(device)?;
        let cfg = LaunchConfig {
            grid_dim: ((count * k).div_ceil(256) as u32, 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: 0,
        };
        let (t, ki, c) = (tiles as i32, k as i32, count as i32);
        launch!(self, &self.k.sum_tiles, cfg; tiles_out, &mut out, &t, &ki, &c)?;
        self.stream.clone_dtoh(&out).map_err(device)
    }

    /// The analysis of clips that share one frame size and fit in memory together.
    fn analyze_chunk(&self, clips: &[&[&Plane]]) -> Result<Vec<ClipFlow>, FlowError> {
        let (w, h) = (clips[0][0].width, clips[0][0].height);
        let n = w * h;
        let frames: Vec<&Plane> = clips.iter().flat_map(|c| c.iter().copied()).collect();
        let dev = self.upload(&frames)?;
        // Pair p of clip c: frames (o + t, o + t + 1); forward flows first, then backward.
        let (mut fa, mut fb, mut pair_clip) = (Vec::new(), Vec::new(), Vec::new());
        let mut offset = 0i32;
        for (c, clip) in clips.iter().enumerate() {
            for t in 0..clip.len().saturating_sub(1) as i32 {
                fa.push(offset + t);
                fb.push(offset + t + 1);
                pair_clip.push(c);
            }
            offset += clip.len() as i32;
        }
        let pairs = fa.len();
        let mut out: Vec<ClipFlow> = clips
            .iter()
            .map(|c| ClipFlow {
                width: w,
                height: h,
                blocks: analysis::block_grid(w, h),
                pairs: Vec::with_capacity(c.len().saturating_sub(1)),
                triples: Vec::new(),
            })
            .collect();
        if pairs == 0 {
            return Ok(out);
        }
        let a_index: Vec<i32> = fa.iter().chain(&fb).copied().collect();
        let b_index: Vec<i32> = fb.iter().chain(&fa).copied().collect();
        let flows = self.solve(&dev, &a_index, &b_index)?;
        let s = &self.stream;
        let (wi, hi) = (w as i32, h as i32);
        let (bx, by) = analysis::block_grid(w, h);
        let tiles = bx * by;
        let cfg = grid(w, h, pairs);

        // Reliability, residuals and magnitudes.
        let fa_dev = s.clone_htod(&fa).map_err(device)?;
        let fb_dev = s.clone_htod(&fb).map_err(device)?;
        let mut mask = s.alloc_zeros::<u8>(pairs * n).map_err(device)?;
        let mut tile6 = s.alloc_zeros::<f64>(pairs * tiles * 6).map_err(device)?;
        let (gu, gv) = (flows.u.slice(pairs * n..), flows.v.slice(pairs * n..));
        launch!(self, &self.k.pair_check, cfg; &dev.levels[0], &fa_dev, &fb_dev, &flows.u, &flows.v, &gu, &gv, &mut mask, &mut tile6, &wi, &hi)?;
        let per_tile = s.clone_dtoh(&tile6).map_err(device)?;
        let mut tile2 = s.alloc_zeros::<f64>(pairs * tiles * 2).map_err(device)?;
        launch!(self, &self.k.block_shift_residual, cfg;
            &dev.levels[0], &fa_dev, &fb_dev, &tile6, &mut tile2, &wi, &hi)?;
        let shifted = s.clone_dtoh(&tile2).map_err(device)?;

        // Camera fit: IRLS passes, each reduced on the device.
        let mut theta: Vec<Option<camera::Theta>> = vec![None; pairs];
        let mut failed = vec![false; pairs];
        let mut tile8 = s.alloc_zeros::<f64>(pairs * tiles * 8).map_err(device)?;
        for pass in 0..camera::IRLS_PASSES {
            let host: Vec<f32> = theta
                .iter()
                .flat_map(|t| t.as_ref().map_or([0.0; 4], camera::theta_f32))
                .collect();
            let theta_dev = s.clone_htod(&host).map_err(device)?;
            let pass_i = pass as i32;
            launch!(self, &self.k.camera_sums, cfg; &flows.u, &flows.v, &mask, &theta_dev, &pass_i, &mut tile8, &wi, &hi)?;
            let sums = self.sum_tiles(&tile8, tiles, NormalSums::LEN, pairs)?;
            for p in 0..pairs {
                if !failed[p] {
                    theta[p] = NormalSums::from_array(&sums[p * 8..(p + 1) * 8]).solve();
                    failed[p] = theta[p].is_none();
                }
            }
        }
        let host: Vec<f32> = theta
            .iter()
            .flat_map(|t| t.as_ref().map_or([0.0; 4], camera::theta_f32))
            .collect();
        let theta_dev = s.clone_htod(&host).map_err(device)?;
        let mut tile1 = s.alloc_zeros::<f64>(pairs * tiles).map_err(device)?;
        launch!(self, &self.k.object_sums, cfg; &flows.u, &flows.v, &mask, &theta_dev, &mut tile1, &wi, &hi)?;
        let object = self.sum_tiles(&tile1, tiles, 1, pairs)?;

        for p in 0..pairs {
            let t = &per_tile[p * tiles * 6..(p + 1) * tiles * 6];
            let r = &shifted[p * tiles * 2..(p + 1) * tiles * 2];
            let mut st = PairStats {
                pixels: n as u64,
                reliable: 0,
                sq_residual: 0.0,
                magnitude_sum: 0.0,
                object_sum: 0.0,
                camera: None,
                block_residual: r.chunks_exact(2).map(|b| b[0]).collect(),
                block_counted: r.chunks_exact(2).map(|b| b[1] as u32).collect(),
            };
            for b in t.chunks_exact(6) {
                st.reliable += b[0] as u64;
                st.sq_residual += b[1];
                st.magnitude_sum += b[2];
            }
            if !failed[p] {
                st.camera = theta[p].as_ref().map(CameraMotion::from_theta);
                st.object_sum = object[p];
            }
            out[pair_clip[p]].pairs.push(st);
        }

        // Trajectory acceleration over consecutive pairs of the same clip.
        let (mut first, mut second, mut owner) = (Vec::new(), Vec::new(), Vec::new());
        for p in 0..pairs.saturating_sub(1) {
            if pair_clip[p] == pair_clip[p + 1] {
                first.push(p as i32);
                second.push(p as i32 + 1);
                owner.push(pair_clip[p]);
            }
        }
        if !first.is_empty() {
            let (f_dev, s_dev) = (
                s.clone_htod(&first).map_err(device)?,
                s.clone_htod(&second).map_err(device)?,
            );
            let mut tile3 = s
                .alloc_zeros::<f64>(first.len() * tiles * 3)
                .map_err(device)?;
            launch!(self, &self.k.triple_sums, grid(w, h, first.len());
                &flows.u, &flows.v, &mask, &f_dev, &s_dev, &f_dev, &mut tile3, &wi, &hi)?;
            let sums = self.sum_tiles(&tile3, tiles, 3, first.len())?;
            for (k, &c) in owner.iter().enumerate() {
                out[c].triples.push(TripleStats {
                    accel_sum: sums[k * 3],
                    speed_sum: sums[k * 3 + 1],
                    count: sums[k * 3 + 2] as u64,
                });
            }
        }
        Ok(out)
    }

    /// Bytes of device memory one clip of `frames` frames at w x h needs.
    fn clip_bytes(&self, frames: usize, w: usize, h: usize) -> usize {
        let n = w * h;
        let flows = 2 * frames.saturating_sub(1);
        // 17 planes per flow (u, v, spares, increments, warp, 5+5 tensor), masks,
        // frames at every level (4/3) plus the raw upload, per-tile sums.
        flows * 17 * 4 * n + flows / 2 * n + frames * (4 * n * 7 / 3) + flows * 8 * 8 * n / 256
    }
}

impl FlowEngine for CudaFlow {
    fn name(&self) -> &'static str {
        "cuda"
    }

    fn flow_pairs(&self, pairs: &[(&Plane, &Plane)]) -> Result<Vec<FlowField>, FlowError> {
        let _guard = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(pairs.len());
        for (a, b) in pairs {
            check_pair(a, b)?;
        }
        // Pairs of one size are solved together, in launches of bounded size.
        let mut start = 0;
        while start < pairs.len() {
            let size = (pairs[start].0.width, pairs[start].0.height);
            let mut end = start;
            while end < pairs.len()
                && (pairs[end].0.width, pairs[end].0.height) == size
                && end - start < MAX_FLOWS_PER_LAUNCH / 4
            {
                end += 1;
            }
            let frames: Vec<&Plane> = pairs[start..end]
                .iter()
                .flat_map(|(a, b)| [*a, *b])
                .collect();
            let dev = self.upload(&frames)?;
            let a_index: Vec<i32> = (0..(end - start) as i32).map(|i| 2 * i).collect();
            let b_index: Vec<i32> = a_index.iter().map(|i| i + 1).collect();
            let flows = self.solve(&dev, &a_index, &b_index)?;
            let u = self.stream.clone_dtoh(&flows.u).map_err(device)?;
            let v = self.stream.clone_dtoh(&flows.v).map_err(device)?;
            let n = size.0 * size.1;
            for k in 0..end - start {
                out.push(FlowField {
                    width: size.0,
                    height: size.1,
                    u: u[k * n..(k + 1) * n].to_vec(),
                    v: v[k * n..(k + 1) * n].to_vec(),
                });
            }
            start = end;
        }
        Ok(out)
    }

    fn analyze_clips(&self, clips: &[&[&Plane]]) -> Result<Vec<ClipFlow>, FlowError> {
        let _guard = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        for clip in clips {
            for pair in clip.windows(2) {
                check_pair(pair[0], pair[1])?;
            }
        }
        let (free, _) = self.ctx.mem_get_info().map_err(device)?;
        let budget = free / 10 * 7;
        let mut results: Vec<Option<ClipFlow>> = vec![None; clips.len()];
        // Chunks: consecutive clips of one size, within the memory budget and launch limits.
        let mut start = 0;
        while start < clips.len() {
            if clips[start].is_empty() {
                results[start] = Some(ClipFlow {
                    width: 0,
                    height: 0,
                    blocks: (0, 0),
                    pairs: Vec::new(),
                    triples: Vec::new(),
                });
                start += 1;
                continue;
            }
            let size = (clips[start][0].width, clips[start][0].height);
            let (mut end, mut bytes, mut flows) = (start, 0usize, 0usize);
            while end < clips.len() {
                let c = clips[end];
                if c.is_empty() || (c[0].width, c[0].height) != size {
                    break;
                }
                let (b, f) = (
                    self.clip_bytes(c.len(), size.0, size.1),
                    2 * c.len().saturating_sub(1),
                );
                if end > start && (bytes + b > budget || flows + f > MAX_FLOWS_PER_LAUNCH) {
                    break;
                }
                bytes += b;
                flows += f;
                end += 1;
            }
            for (k, r) in self
                .analyze_chunk(&clips[start..end])?
                .into_iter()
                .enumerate()
            {
                results[start + k] = Some(r);
            }
            start = end;
        }
        Ok(results
            .into_iter()
            .map(|r| r.expect("every clip analysed"))
            .collect())
    }
}
