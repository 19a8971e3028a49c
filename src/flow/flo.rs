//! The Middlebury `.flo` format (also read by OpenCV's `readOpticalFlow`):
//! the bytes "PIEH" (the float 202021.25), width and height as little-endian
//! i32, then width·height (u, v) pairs of little-endian f32, row-major.

use super::FlowField;
use std::io::{Read, Write};

const MAGIC: &[u8; 4] = b"PIEH";
/// Largest side accepted when reading, guarding against absurd headers.
const MAX_SIDE: i32 = 1 << 15;

#[derive(Debug, thiserror::Error)]
pub enum FloError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a .flo file (magic {0:?}, expected \"PIEH\")")]
    BadMagic([u8; 4]),
    #[error("bad .flo size {0}x{1}")]
    BadSize(i32, i32),
}

pub fn write(flow: &FlowField, mut out: impl Write) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(12 + flow.u.len() * 8);
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&(flow.width as i32).to_le_bytes());
    buf.extend_from_slice(&(flow.height as i32).to_le_bytes());
    for (u, v) in flow.u.iter().zip(&flow.v) {
        buf.extend_from_slice(&u.to_le_bytes());
        buf.extend_from_slice(&v.to_le_bytes());
    }
    out.write_all(&buf)
}

pub fn read(mut input: impl Read) -> Result<FlowField, FloError> {
    let mut head = [0u8; 12];
    input.read_exact(&mut head)?;
    let magic: [u8; 4] = head[..4].try_into().expect("4 bytes");
    if &magic != MAGIC {
        return Err(FloError::BadMagic(magic));
    }
    let w = i32::from_le_bytes(head[4..8].try_into().expect("4 bytes"));
    let h = i32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
    if !(1..=MAX_SIDE).contains(&w) || !(1..=MAX_SIDE).contains(&h) {
        return Err(FloError::BadSize(w, h));
    }
    let (w, h) = (w as usize, h as usize);
    let mut body = vec![0u8; w * h * 8];
    input.read_exact(&mut body)?;
    let mut flow = FlowField::zeros(w, h);
    for (i, px) in body.chunks_exact(8).enumerate() {
        flow.u[i] = f32::from_le_bytes(px[..4].try_into().expect("4 bytes"));
        flow.v[i] = f32::from_le_bytes(px[4..].try_into().expect("4 bytes"));
    }
    Ok(flow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_starts_with_the_magic_float() {
        let mut f = FlowField::zeros(3, 2);
        f.u[4] = 1.25;
        f.v[5] = -7.5;
        let mut bytes = Vec::new();
        write(&f, &mut bytes).unwrap();
        assert_eq!(bytes.len(), 12 + 6 * 8);
        assert_eq!(
            f32::from_le_bytes(bytes[..4].try_into().unwrap()),
            202021.25
        );
        assert_eq!(read(&bytes[..]).unwrap(), f);
    }

    #[test]
    fn rejects_truncated_and_foreign_files() {
        assert!(matches!(
            read(&b"GIF89a......"[..]),
            Err(FloError::BadMagic(_))
        ));
        let mut bytes = Vec::new();
        write(&FlowField::zeros(4, 4), &mut bytes).unwrap();
        assert!(matches!(read(&bytes[..40]), Err(FloError::Io(_))));
    }
}
