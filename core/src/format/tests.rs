//! Inspector tests over real images made by `qemu-img` at test time, headers
//! built per their public specifications where qemu-img makes none (ISO, MBR,
//! GPT, hand-written VMDK descriptors), and damaged or random input.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

/// Runs `qemu-img` with `args`; the tests need it (Debian's qemu-utils).
fn qemu_img(args: &[&str]) {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("qemu-img is required (apt-get install qemu-utils): {e}"));
    assert!(
        out.status.success(),
        "qemu-img {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `qemu-img info`'s virtual size of `path` read as `format`.
fn qemu_virtual_size(path: &Path, format: &str) -> u64 {
    let out = Command::new("qemu-img")
        .args(["info", "--output=json", "-f", format])
        .arg(path)
        .output()
        .expect("qemu-img info");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    info["virtual-size"].as_u64().unwrap()
}

struct Images {
    dir: tempfile::TempDir,
}

impl Images {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `qemu-img create -f format [-o options] name size`.
    fn create(&self, name: &str, format: &str, options: &str, size: &str) -> Vec<u8> {
        let path = self.path(name);
        let p = path.to_str().unwrap();
        let mut args = vec!["create", "-q", "-f", format];
        if !options.is_empty() {
            args.extend(["-o", options]);
        }
        args.extend([p, size]);
        qemu_img(&args);
        std::fs::read(&path).unwrap()
    }

    /// A raw disk with some data in it, converted to `format`.
    fn convert(&self, name: &str, format: &str, options: &str) -> Vec<u8> {
        let raw = self.path(&format!("{name}.src"));
        let mut data = vec![0u8; 3 << 20];
        data[1 << 20..(1 << 20) + 4096].copy_from_slice(&pattern(4096, 9));
        std::fs::write(&raw, &data).unwrap();
        let out = self.path(name);
        let mut args = vec!["convert", "-q", "-f", "raw", "-O", format];
        if !options.is_empty() {
            args.extend(["-o", options]);
        }
        args.extend([raw.to_str().unwrap(), out.to_str().unwrap()]);
        qemu_img(&args);
        std::fs::read(&out).unwrap()
    }
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn inspect(data: &[u8], chunk: usize) -> Inspection {
    let mut i = Inspection::new();
    for c in data.chunks(chunk.max(1)) {
        i.feed(c);
    }
    i.end();
    i
}

fn verdict_with(
    data: &[u8],
    disk_format: &str,
    config: &ImageFormatConfig,
) -> Result<Option<u64>, Refusal> {
    let mut check = ImageCheck::for_image(Some("bare"), Some(disk_format), config).unwrap();
    for c in data.chunks(64 * 1024) {
        check.feed(c);
    }
    check.finish()
}

fn verdict(data: &[u8], disk_format: &str) -> Result<Option<u64>, Refusal> {
    verdict_with(data, disk_format, &ImageFormatConfig::default())
}

fn unsafe_checks(r: Result<Option<u64>, Refusal>) -> Vec<&'static str> {
    match r {
        Err(Refusal::Unsafe { failures, .. }) => failures.iter().map(|f| f.check).collect(),
        other => panic!("expected a safety refusal, got {other:?}"),
    }
}

/// Same detection whatever the chunking: the bytes, not their packaging, decide.
fn assert_detected(data: &[u8], expected: &[&str]) {
    let mut sizes = vec![511, 512, 4096, 65_536, data.len().max(1)];
    if data.len() <= 1 << 20 {
        sizes.push(1);
        sizes.push(7);
    }
    for chunk in sizes {
        assert_eq!(inspect(data, chunk).detected(), expected, "chunk {chunk}");
    }
}

#[test]
fn qcow2_v3_and_v2() {
    let imgs = Images::new();
    for (name, options) in [("v3.qcow2", ""), ("v2.qcow2", "compat=0.10")] {
        let data = imgs.create(name, "qcow2", options, "16M");
        assert_detected(&data, &["qcow2"]);
        assert_eq!(verdict(&data, "qcow2"), Ok(Some(16 << 20)), "{name}");
        assert_eq!(
            qemu_virtual_size(&imgs.path(name), "qcow2"),
            16 << 20,
            "{name}"
        );
    }
    let data = imgs.convert("data.qcow2", "qcow2", "");
    assert_eq!(verdict(&data, "qcow2"), Ok(Some(3 << 20)));
}

#[test]
fn qcow2_stored_as_raw_is_raw_sized() {
    let imgs = Images::new();
    let data = imgs.create("a.qcow2", "qcow2", "", "1G");
    assert_eq!(verdict(&data, "raw"), Ok(Some(data.len() as u64)));
}

#[test]
fn qcow2_declared_as_another_format_is_refused() {
    let imgs = Images::new();
    let data = imgs.create("a.qcow2", "qcow2", "", "16M");
    assert_eq!(
        verdict(&data, "vmdk"),
        Err(Refusal::Format(
            "Image disk_format vmdk does not match stream data qcow2".into()
        ))
    );
    // Not inspectable formats accept only content nothing else claims.
    assert_eq!(
        verdict(&data, "ami").unwrap_err().to_string(),
        "Image disk_format ami does not match stream data qcow2"
    );
}

#[test]
fn qcow2_with_a_backing_file_is_refused_whatever_it_claims() {
    let imgs = Images::new();
    imgs.create("base.qcow2", "qcow2", "", "16M");
    let base = imgs.path("base.qcow2");
    let options = format!("backing_file={},backing_fmt=qcow2", base.display());
    let data = imgs.create("top.qcow2", "qcow2", &options, "16M");
    assert_detected(&data, &["qcow2"]);
    assert_eq!(unsafe_checks(verdict(&data, "qcow2")), ["backing_file"]);
    assert_eq!(unsafe_checks(verdict(&data, "raw")), ["backing_file"]);
    assert_eq!(
        verdict(&data, "qcow2").unwrap_err().to_string(),
        "Image failed safety checks"
    );
}

#[test]
fn qcow2_with_an_external_data_file_is_refused() {
    let imgs = Images::new();
    let options = format!("data_file={}", imgs.path("ext.raw").display());
    let data = imgs.create("ext.qcow2", "qcow2", &options, "16M");
    assert_eq!(unsafe_checks(verdict(&data, "qcow2")), ["data_file"]);
}

#[test]
fn qcow2_with_unknown_features_is_refused() {
    let imgs = Images::new();
    // Extended L2 entries (incompatible bit 4) are past what the check knows.
    let data = imgs.create("l2.qcow2", "qcow2", "extended_l2=on", "16M");
    assert_eq!(unsafe_checks(verdict(&data, "qcow2")), ["unknown_features"]);
    let mut v4 = imgs.create("v4.qcow2", "qcow2", "", "16M");
    v4[7] = 4;
    assert_eq!(unsafe_checks(verdict(&v4, "qcow2")), ["unknown_features"]);
}

#[test]
fn vhd_vhdx_vdi() {
    let imgs = Images::new();
    for (format, name, options) in [
        ("vpc", "vhd", "subformat=dynamic"),
        ("vpc", "vhd", "subformat=fixed"),
        ("vhdx", "vhdx", ""),
        ("vdi", "vdi", ""),
    ] {
        for data in [
            imgs.create(&format!("{name}.img"), format, options, "64M"),
            imgs.convert(&format!("{name}.conv"), format, options),
        ] {
            let expected_name = if options == "subformat=fixed" {
                // A fixed VHD keeps its footer at the end only: raw data then.
                "raw"
            } else {
                name
            };
            assert_detected(&data, &[expected_name]);
            if expected_name == "raw" {
                continue;
            }
            let size = verdict(&data, name).unwrap().unwrap();
            let path = imgs.path("check");
            std::fs::write(&path, &data).unwrap();
            assert_eq!(size, qemu_virtual_size(&path, format), "{name} {options}");
        }
    }
}

#[test]
fn vmdk_single_file_kinds() {
    let imgs = Images::new();
    for subformat in ["monolithicSparse", "streamOptimized"] {
        let options = format!("subformat={subformat}");
        for data in [
            imgs.create("a.vmdk", "vmdk", &options, "64M"),
            imgs.convert("b.vmdk", "vmdk", &options),
        ] {
            assert_detected(&data, &["vmdk"]);
            let path = imgs.path("check.vmdk");
            std::fs::write(&path, &data).unwrap();
            assert_eq!(
                verdict(&data, "vmdk"),
                Ok(Some(qemu_virtual_size(&path, "vmdk"))),
                "{subformat}"
            );
        }
    }
}

#[test]
fn vmdk_descriptor_files_are_refused() {
    let imgs = Images::new();
    // monolithicFlat: the descriptor is its own file and names the data file.
    imgs.create("flat.vmdk", "vmdk", "subformat=monolithicFlat", "16M");
    let data = std::fs::read(imgs.path("flat.vmdk")).unwrap();
    assert_detected(&data, &["vmdk"]);
    assert_eq!(unsafe_checks(verdict(&data, "vmdk")), ["descriptor"]);
    assert_eq!(unsafe_checks(verdict(&data, "raw")), ["descriptor"]);

    // A descriptor that claims a single-file kind but points at a host file.
    let evil = b"# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n\
createType=\"monolithicSparse\"\n\nRW 2048 FLAT \"/etc/passwd\" 0\n\nddb.virtualHWVersion = \"4\"\n";
    assert_detected(evil, &["vmdk"]);
    // It has no sparse header to read a size from.
    assert_eq!(
        verdict(evil, "vmdk"),
        Err(Refusal::Failed(
            "a VMDK descriptor claims a sparse kind but has no header".into()
        ))
    );
    assert_eq!(unsafe_checks(verdict(evil, "raw")), ["descriptor"]);
}

#[test]
fn vmdk_sparse_header_with_unsafe_descriptor_lines() {
    let imgs = Images::new();
    let good = imgs.create("a.vmdk", "vmdk", "subformat=monolithicSparse", "16M");
    let desc_at = 512;
    let end = desc_at + good[desc_at..].iter().position(|&b| b == 0).unwrap();
    let text = String::from_utf8(good[desc_at..end].to_vec()).unwrap();
    for (replace, with, reason) in [
        (
            "\"a.vmdk\"",
            "\"/etc/shadow\"",
            "Invalid extent filenames found",
        ),
        (
            "# Disk DescriptorFile",
            "!unexpected line",
            "Invalid VMDK descriptor data",
        ),
        ("monolithicSparse", "vmfs", "Unsupported subformat"),
    ] {
        let changed = text.replace(replace, with);
        assert_ne!(changed, text, "{replace}");
        let mut data = good.clone();
        data[desc_at..desc_at + changed.len()].copy_from_slice(changed.as_bytes());
        for b in &mut data[desc_at + changed.len()..end.max(desc_at + changed.len())] {
            *b = 0;
        }
        match verdict(&data, "vmdk") {
            Err(Refusal::Unsafe { failures, .. }) => {
                assert_eq!(failures[0].reason, reason, "{replace}")
            }
            other => panic!("{replace}: {other:?}"),
        }
    }
}

/// A streamOptimized VMDK whose header defers to a footer (grain directory
/// offset all ones), as VMware writes them: footer marker, footer, end-of-stream.
fn vmdk_with_footer(imgs: &Images) -> Vec<u8> {
    let mut data = imgs.convert("s.vmdk", "vmdk", "subformat=streamOptimized");
    let mut footer = data[..512].to_vec();
    data[56..64].copy_from_slice(&u64::MAX.to_le_bytes());
    let mut marker = vec![0u8; 512];
    marker[0..8].copy_from_slice(&1u64.to_le_bytes());
    marker[12..16].copy_from_slice(&3u32.to_le_bytes());
    data.extend(marker);
    footer[56..64].copy_from_slice(&0x1au64.to_le_bytes());
    data.extend(footer);
    data.extend([0u8; 512]);
    data
}

#[test]
fn vmdk_stream_optimized_footer_is_checked() {
    let imgs = Images::new();
    let good = vmdk_with_footer(&imgs);
    assert_detected(&good, &["vmdk"]);
    assert_eq!(verdict(&good, "vmdk"), Ok(Some(3 << 20)));
    let n = good.len();
    for (at, what) in [
        (n - 512 + 12, "end-of-stream marker type"),
        (n - 1024 + 4, "footer version"),
        (n - 1024 + 28, "footer descriptor offset"),
        (n - 1536 + 12, "footer marker type"),
        (n - 1536 + 100, "footer marker padding"),
    ] {
        let mut bad = good.clone();
        bad[at] ^= 0x5a;
        assert_eq!(unsafe_checks(verdict(&bad, "vmdk")), ["footer"], "{what}");
    }
    let mut twice = good.clone();
    twice[n - 1024 + 56..n - 1024 + 64].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(unsafe_checks(verdict(&twice, "vmdk")), ["footer"]);
}

#[test]
fn qed_is_detected_and_never_allowed() {
    let imgs = Images::new();
    let data = imgs.create("a.qed", "qed", "", "16M");
    assert_detected(&data, &["qed"]);
    assert_eq!(unsafe_checks(verdict(&data, "raw")), ["banned"]);
    assert!(matches!(verdict(&data, "qcow2"), Err(Refusal::Format(_))));
}

#[test]
fn luks_is_detected() {
    let imgs = Images::new();
    let secret = "secret,id=sec0,data=test";
    let out = imgs.path("a.luks");
    qemu_img(&[
        "create",
        "-q",
        "--object",
        secret,
        "-f",
        "luks",
        "-o",
        "key-secret=sec0,iter-time=10",
        out.to_str().unwrap(),
        "16M",
    ]);
    let data = std::fs::read(&out).unwrap();
    assert_detected(&data, &["luks"]);
    let payload = u32::from_be_bytes(data[104..108].try_into().unwrap()) as u64 * 512;
    assert_eq!(
        verdict(&data, "luks"),
        Ok(Some(data.len() as u64 - payload))
    );
    assert_eq!(verdict(&data, "raw"), Ok(Some(data.len() as u64)));
}

/// An ISO 9660 image: an empty system area, then a primary volume descriptor
/// (type 1, "CD001", version 1) with `blocks` logical blocks of 2048 bytes.
fn iso(blocks: u32, system_area: &[u8]) -> Vec<u8> {
    let mut data = vec![0u8; 32 * 1024 + 2 * 2048];
    data[..system_area.len()].copy_from_slice(system_area);
    let pvd = &mut data[32 * 1024..];
    pvd[0] = 1;
    pvd[1..6].copy_from_slice(b"CD001");
    pvd[6] = 1;
    pvd[80..84].copy_from_slice(&blocks.to_le_bytes());
    pvd[84..88].copy_from_slice(&blocks.to_be_bytes());
    pvd[128..130].copy_from_slice(&2048u16.to_le_bytes());
    pvd[130..132].copy_from_slice(&2048u16.to_be_bytes());
    // The set terminator.
    let term = &mut data[34 * 1024..];
    term[0] = 255;
    term[1..6].copy_from_slice(b"CD001");
    data
}

/// A first sector with the boot signature and the given partition entries
/// (boot flag, start CHS, type, start LBA).
fn mbr(entries: &[(u8, [u8; 3], u8, u32)]) -> Vec<u8> {
    let mut s = vec![0u8; 512];
    for (i, (boot, chs, kind, lba)) in entries.iter().enumerate() {
        let e = &mut s[446 + 16 * i..446 + 16 * (i + 1)];
        e[0] = *boot;
        e[1..4].copy_from_slice(chs);
        e[4] = *kind;
        e[8..12].copy_from_slice(&lba.to_le_bytes());
        e[12..16].copy_from_slice(&1000u32.to_le_bytes());
    }
    s[510] = 0x55;
    s[511] = 0xaa;
    s
}

const PROTECTIVE: (u8, [u8; 3], u8, u32) = (0, [0, 2, 0], 0xee, 1);

#[test]
fn iso_alone_and_with_a_gpt_boot_loader() {
    let data = iso(1000, &[]);
    assert_detected(&data, &["iso"]);
    assert_eq!(verdict(&data, "iso"), Ok(Some(1000 * 2048)));
    let mut udf = data.clone();
    udf[32 * 1024 + 1..32 * 1024 + 6].copy_from_slice(b"NSR02");
    assert_eq!(inspect(&udf, 4096).detected(), ["iso"]);

    let hybrid = iso(1000, &mbr(&[PROTECTIVE]));
    assert_detected(&hybrid, &["iso", "gpt"]);
    assert_eq!(verdict(&hybrid, "iso"), Ok(Some(1000 * 2048)));
    assert_eq!(
        verdict(&hybrid, "raw"),
        Ok(Some(hybrid.len() as u64)),
        "iso+gpt is iso, which raw accepts"
    );
}

#[test]
fn gpt_and_mbr_disks() {
    let mut disk = mbr(&[PROTECTIVE]);
    disk.resize(64 * 1024, 0);
    assert_detected(&disk, &["gpt"]);
    // Raw disks with partition tables are the common case: accepted as raw.
    assert_eq!(verdict(&disk, "raw"), Ok(Some(disk.len() as u64)));

    let mut dos = mbr(&[(0x80, [0, 33, 0], 0x83, 2048), (0, [0, 0, 0], 0x82, 4096)]);
    dos.resize(64 * 1024, 0);
    assert_eq!(verdict(&dos, "raw"), Ok(Some(dos.len() as u64)));

    for (entries, reason) in [
        (
            vec![(0x12, [0, 2, 0], 0x83, 1)],
            "MBR PTE 0 has invalid boot flag",
        ),
        (
            vec![(0, [0, 3, 0], 0xee, 1)],
            "GPT MBR has invalid start CHS",
        ),
        (
            vec![(0, [0, 2, 0], 0xee, 2)],
            "GPT MBR has invalid start LBA",
        ),
        (
            vec![PROTECTIVE, (0, [0, 0, 0], 0x83, 5000)],
            "GPT MBR defines invalid extra partitions",
        ),
        (vec![], "GPT MBR has no partitions defined"),
    ] {
        let mut d = mbr(&entries);
        d.resize(4096, 0);
        match verdict(&d, "raw") {
            Err(Refusal::Unsafe { format, failures }) => {
                assert_eq!(format, "gpt");
                assert_eq!(failures[0].check, "mbr");
                assert_eq!(failures[0].reason, reason);
            }
            other => panic!("{reason}: {other:?}"),
        }
        let lenient = ImageFormatConfig {
            gpt_safety_checks_nonfatal: vec!["mbr".into()],
            ..ImageFormatConfig::default()
        };
        assert_eq!(
            verdict_with(&d, "raw", &lenient),
            Ok(Some(4096)),
            "{reason}"
        );
    }
}

#[test]
fn a_fat_boot_sector_is_not_a_partition_table() {
    let mut fat = mbr(&[]);
    fat[0x10] = 2;
    fat[0x15] = 0xf8;
    fat.resize(8192, 0);
    assert_detected(&fat, &["raw"]);
    assert_eq!(verdict(&fat, "raw"), Ok(Some(8192)));
}

#[test]
fn raw_content() {
    let data = pattern(1 << 20, 3);
    assert_detected(&data, &["raw"]);
    assert_eq!(verdict(&data, "raw"), Ok(Some(1 << 20)));
    // Formats nothing can inspect take content nothing recognises.
    for df in ["ami", "ari", "aki", "ploop"] {
        assert_eq!(verdict(&data, df), Ok(None), "{df}");
    }
    for df in ["qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso"] {
        assert_eq!(
            verdict(&data, df),
            Err(Refusal::Format(format!(
                "Image disk_format {df} does not match stream data raw"
            )))
        );
    }
    // Empty data is raw of size zero: no virtual size.
    assert_eq!(verdict(&[], "raw"), Ok(None));
    assert!(verdict(&[], "qcow2").is_err());
}

#[test]
fn gzip_of_random_bytes_is_raw() {
    let mut data = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3];
    data.extend(pattern(1 << 20, 77));
    assert_detected(&data, &["raw"]);
    assert_eq!(verdict(&data, "raw"), Ok(Some(data.len() as u64)));
}

#[test]
fn two_formats_in_one_header_are_refused() {
    // A qcow2 magic with a VDI signature hidden in the same sector.
    let imgs = Images::new();
    let mut data = imgs.create("a.qcow2", "qcow2", "", "16M");
    data[0x40..0x44].copy_from_slice(&0xbeda_107fu32.to_le_bytes());
    assert_eq!(
        verdict(&data, "qcow2"),
        Err(Refusal::Format(
            "Multiple formats detected: qcow2,vdi".into()
        ))
    );
    assert!(verdict(&data, "raw").is_err());
}

#[test]
fn a_mismatch_only_warns_when_no_match_is_required() {
    let loose = ImageFormatConfig {
        require_image_format_match: false,
        ..ImageFormatConfig::default()
    };
    let data = pattern(4096, 5);
    assert_eq!(verdict_with(&data, "qcow2", &loose), Ok(None));
    // Safety still refuses.
    let imgs = Images::new();
    imgs.create("base.qcow2", "qcow2", "", "16M");
    let options = format!(
        "backing_file={},backing_fmt=qcow2",
        imgs.path("base.qcow2").display()
    );
    let top = imgs.create("top.qcow2", "qcow2", &options, "16M");
    assert_eq!(
        unsafe_checks(verdict_with(&top, "qcow2", &loose)),
        ["backing_file"]
    );
}

#[test]
fn only_bare_containers_are_inspected() {
    let config = ImageFormatConfig::default();
    assert!(ImageCheck::for_image(Some("ovf"), Some("qcow2"), &config).is_none());
    assert!(ImageCheck::for_image(None, Some("qcow2"), &config).is_none());
    assert!(ImageCheck::for_image(Some("bare"), Some("qcow2"), &config).is_some());
}

#[test]
fn truncated_images_never_panic_and_short_headers_are_refused() {
    let imgs = Images::new();
    let samples = [
        ("qcow2", imgs.create("a.qcow2", "qcow2", "", "16M")),
        ("vhd", imgs.create("a.vhd", "vpc", "", "16M")),
        ("vhdx", imgs.create("a.vhdx", "vhdx", "", "16M")),
        ("vdi", imgs.create("a.vdi", "vdi", "", "16M")),
        (
            "vmdk",
            imgs.convert("a.vmdk", "vmdk", "subformat=streamOptimized"),
        ),
        (
            "vmdk",
            imgs.create("b.vmdk", "vmdk", "subformat=monolithicSparse", "16M"),
        ),
        ("vmdk", vmdk_with_footer(&imgs)),
        ("iso", iso(10, &mbr(&[PROTECTIVE]))),
    ];
    for (format, data) in &samples {
        for len in [
            0,
            1,
            4,
            8,
            63,
            64,
            100,
            511,
            512,
            513,
            1024,
            4096,
            32 * 1024,
            200_000,
            262_144,
        ] {
            let cut = &data[..len.min(data.len())];
            for df in [*format, "raw"] {
                let _ = verdict(cut, df);
            }
        }
        // Too short for its own header: refused, never accepted with a size.
        let cut = &data[..100];
        if *format != "vhdx" {
            assert!(verdict(cut, format).is_err(), "{format} cut to 100 bytes");
        }
    }
}

#[test]
fn corrupt_headers_never_panic() {
    let imgs = Images::new();
    let samples = [
        imgs.create("a.qcow2", "qcow2", "", "16M"),
        imgs.create("a.vhdx", "vhdx", "", "16M"),
        imgs.convert("a.vmdk", "vmdk", "subformat=streamOptimized"),
        imgs.create("b.vmdk", "vmdk", "subformat=monolithicSparse", "16M"),
        imgs.create("a.vdi", "vdi", "", "16M"),
        vmdk_with_footer(&imgs),
        iso(10, &mbr(&[PROTECTIVE])),
    ];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for data in &samples {
        // Damage the parts inspectors read: the first 4 KiB, the VHDX tables,
        // the last sectors.
        let hot: Vec<usize> = (0..4096)
            .chain(196_608..196_608 + 4096)
            .chain(data.len().saturating_sub(2048)..data.len())
            .filter(|&i| i < data.len())
            .collect();
        for _ in 0..300 {
            let mut d = data.clone();
            for _ in 0..1 + next() % 8 {
                let at = hot[(next() as usize) % hot.len()];
                d[at] = next() as u8;
            }
            for df in ["qcow2", "vmdk", "vhdx", "vdi", "iso", "raw"] {
                let _ = verdict(&d, df);
            }
        }
    }
}

#[test]
fn random_input_never_panics() {
    let magics: [&[u8]; 9] = [
        b"QFI\xfb",
        b"KDMV",
        b"conectix",
        b"vhdxfile",
        b"QED\0",
        b"LUKS\xba\xbe",
        b"# Disk DescriptorFile\ncreateType=\"streamOptimized\"\nRW 1 SPARSE \"x\"\n",
        b"\0\0\0\0",
        b"",
    ];
    let mut x = 88172645463325252u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..400 {
        let len = (next() % 300_000) as usize;
        let mut data = pattern(len, next());
        let magic = magics[round % magics.len()];
        if data.len() >= magic.len() {
            data[..magic.len()].copy_from_slice(magic);
        }
        // Plausible numbers where parsers look.
        for at in [8usize, 12, 24, 28, 36, 56, 72, 196_608 + 8, 510] {
            if at + 8 <= data.len() && next() % 2 == 0 {
                data[at..at + 8].copy_from_slice(&(next() % 4).to_le_bytes());
            }
        }
        if data.len() > 196_612 && next() % 2 == 0 {
            data[196_608..196_612].copy_from_slice(b"regi");
        }
        let chunk = 1 + (next() % 70_000) as usize;
        let inspection = inspect(&data, chunk);
        let _ = inspection.detected();
        for df in ["qcow2", "vmdk", "vhdx", "vhd", "vdi", "iso", "raw", "ami"] {
            let _ = verdict(&data, df);
        }
    }
}

#[test]
fn memory_stays_bounded_by_the_header_windows() {
    // A large stream passes without any inspector growing: only fixed windows.
    let mut i = Inspection::new();
    let block = pattern(1 << 20, 11);
    for _ in 0..64 {
        i.feed(&block);
    }
    i.end();
    assert_eq!(i.size(), 64 << 20);
    assert_eq!(i.detected(), ["raw"]);
    let held: usize = i.held_bytes();
    assert!(held < 2 << 20, "inspectors hold {held} bytes");
}

#[test]
fn every_inspector_answers_every_question_at_any_point() {
    let imgs = Images::new();
    let samples = [
        pattern(4096, 1),
        imgs.create("a.qcow2", "qcow2", "", "16M"),
        vmdk_with_footer(&imgs),
        mbr(&[PROTECTIVE]),
        b"LUKS\xba\xbe".to_vec(),
        b"conectix".to_vec(),
        b"vhdxfile".to_vec(),
    ];
    for data in &samples {
        for len in [0, 1, 6, 8, 64, 100, 511, 600, 4096] {
            let cut = &data[..len.min(data.len())];
            for name in ALL_FORMATS {
                let mut f = inspector(name).unwrap();
                let _ = f.feed(0, cut);
                let ask = |f: &dyn Format| {
                    let _ = (f.complete(), f.matches(), f.held(), f.wants());
                    let _ = f.virtual_size(cut.len() as u64);
                    let _ = f.safety_check();
                };
                ask(f.as_ref());
                f.end();
                let _ = f.settle();
                ask(f.as_ref());
            }
        }
    }
}
