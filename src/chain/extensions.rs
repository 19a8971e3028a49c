//! Transaction extensions encoded from what the connected runtime lists.
//!
//! subxt's stock configs carry a fixed set of extensions and fail on anything
//! else; subtensor adds its own (`SubtensorSignedExtension`,
//! `CommitmentsSignedExtension` in the 2024/25 runtimes,
//! `ChargeTransactionPaymentWrapper`, `SubtensorTransactionExtension`,
//! `DrandPriority`, ... later) and they change between runtimes. Here the list
//! and every type come from the node's metadata at run time:
//!
//! - extensions whose meaning we know are encoded against the metadata's own
//!   types (so a `Compact<u64>` tip and a wrapper around it both work);
//! - an extension we do not know is accepted only when both its value and its
//!   implicit (signed-only) part are zero-sized in the metadata, which is what
//!   subtensor's own marker extensions are; anything else is refused with its
//!   name, rather than guessed.

use scale_info::{form::PortableForm, PortableRegistry, TypeDef};
use subxt::client::ClientState;
use subxt::config::{ExtrinsicParams, ExtrinsicParamsEncoder, HashFor};
use subxt::ext::codec::Encode;
use subxt::ext::scale_encode::EncodeAsType;
use subxt::ext::scale_value::Value;
use subxt::utils::{Era, H256};
use subxt::Config;
use subxt::Metadata;

/// What a transaction should carry beyond its call.
#[derive(Debug, Clone, Default)]
pub struct ExtensionParams {
    /// Mortality in blocks (rounded to a power of two by the era encoding);
    /// `None` makes the transaction immortal.
    pub mortality_blocks: Option<u64>,
    /// Tip to the block author, in rao.
    pub tip: u128,
    /// Filled in by subxt from the node (`AccountNonceApi`).
    pub nonce: Option<u64>,
    /// The block the mortality counts from; filled in by subxt (latest finalized).
    pub block: Option<(u64, H256)>,
}

impl<T: Config<Hasher = subxt::config::substrate::BlakeTwo256>>
    subxt::config::transaction_extensions::Params<T> for ExtensionParams
{
    fn inject_account_nonce(&mut self, nonce: u64) {
        self.nonce = Some(nonce);
    }
    fn inject_block(&mut self, number: u64, hash: HashFor<T>) {
        self.block = Some((number, hash));
    }
}

/// One extension as it goes into the transaction and into the signed payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedExtension {
    pub identifier: String,
    /// Bytes carried in the transaction.
    pub value: Vec<u8>,
    /// Bytes only signed over (spec version, genesis hash, ...).
    pub implicit: Vec<u8>,
}

/// The runtime's extensions, encoded in its order.
#[derive(Debug, Clone)]
pub struct RuntimeExtensions {
    pub extensions: Vec<EncodedExtension>,
}

/// The chain facts the extensions need.
#[derive(Debug, Clone, Copy)]
pub struct ChainFacts {
    pub genesis_hash: H256,
    pub spec_version: u32,
    pub transaction_version: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ExtensionError {
    #[error(
        "the runtime lists transaction extension `{identifier}` carrying data ({what}) that \
         leoma-gpu does not know how to fill; refusing to guess"
    )]
    Unknown { identifier: String, what: String },
    #[error("transaction extension `{identifier}`: cannot encode {what}: {reason}")]
    Encode {
        identifier: String,
        what: &'static str,
        reason: String,
    },
    #[error("transaction extension `{identifier}` needs {what}, which was not provided")]
    Missing {
        identifier: String,
        what: &'static str,
    },
}

/// Encodes every extension `metadata` lists, in order.
pub fn encode_extensions(
    metadata: &Metadata,
    facts: ChainFacts,
    params: &ExtensionParams,
) -> Result<Vec<EncodedExtension>, ExtensionError> {
    let types = metadata.types();
    let mut out = Vec::new();
    for ext in metadata
        .extrinsic()
        .transaction_extensions_to_use_for_encoding()
    {
        let id = ext.identifier().to_string();
        let enc = |what: &'static str, value: &Value, ty: u32| -> Result<Vec<u8>, ExtensionError> {
            value
                .encode_as_type(ty, types)
                .map_err(|e| ExtensionError::Encode {
                    identifier: id.clone(),
                    what,
                    reason: e.to_string(),
                })
        };
        let (value, implicit) = match ext.identifier() {
            "CheckSpecVersion" => (
                Vec::new(),
                enc(
                    "spec version",
                    &Value::u128(facts.spec_version.into()),
                    ext.additional_ty(),
                )?,
            ),
            "CheckTxVersion" => (
                Vec::new(),
                enc(
                    "transaction version",
                    &Value::u128(facts.transaction_version.into()),
                    ext.additional_ty(),
                )?,
            ),
            "CheckGenesis" => (
                Vec::new(),
                enc(
                    "genesis hash",
                    &Value::from_bytes(facts.genesis_hash.0),
                    ext.additional_ty(),
                )?,
            ),
            "CheckMortality" | "CheckEra" => {
                if !type_path_ends_with(types, ext.extra_ty(), "Era") {
                    return Err(ExtensionError::Unknown {
                        identifier: id,
                        what: "a value that is not an Era".into(),
                    });
                }
                let (era, birth) = match (params.mortality_blocks, params.block) {
                    (Some(period), Some((number, hash))) => (Era::mortal(period, number), hash),
                    (Some(_), None) => {
                        return Err(ExtensionError::Missing {
                            identifier: id,
                            what: "the block the mortality starts at",
                        })
                    }
                    (None, _) => (Era::Immortal, facts.genesis_hash),
                };
                (
                    era.encode(),
                    enc(
                        "birth block hash",
                        &Value::from_bytes(birth.0),
                        ext.additional_ty(),
                    )?,
                )
            }
            "CheckNonce" => {
                let nonce = params.nonce.ok_or_else(|| ExtensionError::Missing {
                    identifier: id.clone(),
                    what: "the account nonce",
                })?;
                (
                    enc("nonce", &Value::u128(nonce.into()), ext.extra_ty())?,
                    Vec::new(),
                )
            }
            "ChargeTransactionPayment" | "ChargeTransactionPaymentWrapper" => (
                enc("tip", &Value::u128(params.tip), ext.extra_ty())?,
                Vec::new(),
            ),
            "ChargeAssetTxPayment" => (
                enc(
                    "tip",
                    &Value::named_composite([
                        ("tip", Value::u128(params.tip)),
                        ("asset_id", Value::unnamed_variant("None", [])),
                    ]),
                    ext.extra_ty(),
                )?,
                Vec::new(),
            ),
            "CheckMetadataHash" => (
                enc(
                    "metadata hash mode",
                    &Value::named_composite([("mode", Value::unnamed_variant("Disabled", []))]),
                    ext.extra_ty(),
                )?,
                enc(
                    "metadata hash",
                    &Value::unnamed_variant("None", []),
                    ext.additional_ty(),
                )?,
            ),
            _ => {
                for (part, ty) in [("value", ext.extra_ty()), ("implicit", ext.additional_ty())] {
                    if !is_zero_sized(types, ty, 0) {
                        return Err(ExtensionError::Unknown {
                            identifier: id,
                            what: format!("its {part} has type {}", type_name(types, ty)),
                        });
                    }
                }
                tracing::debug!(extension = %id, "extension carries no data");
                (Vec::new(), Vec::new())
            }
        };
        out.push(EncodedExtension {
            identifier: id,
            value,
            implicit,
        });
    }
    Ok(out)
}

impl<T> ExtrinsicParams<T> for RuntimeExtensions
where
    T: Config<Hasher = subxt::config::substrate::BlakeTwo256>,
{
    type Params = ExtensionParams;

    fn new(
        client: &ClientState<T>,
        params: Self::Params,
    ) -> Result<Self, subxt::config::ExtrinsicParamsError> {
        let facts = ChainFacts {
            genesis_hash: client.genesis_hash,
            spec_version: client.runtime_version.spec_version,
            transaction_version: client.runtime_version.transaction_version,
        };
        let extensions = encode_extensions(&client.metadata, facts, &params)
            .map_err(|e| subxt::config::ExtrinsicParamsError::Custom(Box::new(e)))?;
        Ok(RuntimeExtensions { extensions })
    }
}

impl ExtrinsicParamsEncoder for RuntimeExtensions {
    fn encode_value_to(&self, v: &mut Vec<u8>) {
        for e in &self.extensions {
            v.extend_from_slice(&e.value);
        }
    }
    fn encode_implicit_to(&self, v: &mut Vec<u8>) {
        for e in &self.extensions {
            v.extend_from_slice(&e.implicit);
        }
    }
}

/// Whether values of type `ty` always encode to zero bytes.
fn is_zero_sized(types: &PortableRegistry, ty: u32, depth: usize) -> bool {
    if depth > 16 {
        return false;
    }
    let Some(t) = types.resolve(ty) else {
        return false;
    };
    match &t.type_def {
        TypeDef::Composite(c) => c
            .fields
            .iter()
            .all(|f| is_zero_sized(types, f.ty.id, depth + 1)),
        TypeDef::Tuple(t) => t
            .fields
            .iter()
            .all(|f| is_zero_sized(types, f.id, depth + 1)),
        TypeDef::Array(a) => a.len == 0 || is_zero_sized(types, a.type_param.id, depth + 1),
        _ => false,
    }
}

/// Whether `ty`, or what it wraps (single-field structs such as
/// `CheckMortality(Era)`), is a type named `name`.
fn type_path_ends_with(types: &PortableRegistry, mut ty: u32, name: &str) -> bool {
    for _ in 0..8 {
        let Some(t) = types.resolve(ty) else {
            return false;
        };
        if t.path.segments.last().is_some_and(|last| last == name) {
            return true;
        }
        match &t.type_def {
            TypeDef::Composite(c) if c.fields.len() == 1 => ty = c.fields[0].ty.id,
            _ => return false,
        }
    }
    false
}

fn type_name(types: &PortableRegistry, ty: u32) -> String {
    match types.resolve(ty) {
        Some(t) if !t.path.segments.is_empty() => t.path.segments.join("::"),
        Some(t) => describe_def(&t.type_def),
        None => format!("#{ty} (missing)"),
    }
}

fn describe_def(def: &TypeDef<PortableForm>) -> String {
    match def {
        TypeDef::Primitive(p) => format!("{p:?}").to_lowercase(),
        TypeDef::Compact(_) => "Compact<_>".into(),
        TypeDef::Sequence(_) => "Vec<_>".into(),
        TypeDef::Array(a) => format!("[_; {}]", a.len),
        TypeDef::Tuple(_) => "(_, ...)".into(),
        TypeDef::Variant(_) => "enum".into(),
        TypeDef::Composite(_) => "struct".into(),
        TypeDef::BitSequence(_) => "BitVec".into(),
    }
}

#[cfg(test)]
mod tests {
    //! Extension lists of later subtensor runtimes, which no published
    //! metadata here carries (the test chain's spec 219/224 list only
    //! `SubtensorSignedExtension` and `CommitmentsSignedExtension`): the
    //! shapes below follow subtensor's source (`ChargeTransactionPaymentWrapper`
    //! wraps `ChargeTransactionPayment(Compact<Balance>)`; the others are
    //! markers).
    use super::*;
    use scale_info::{meta_type, TypeInfo};
    use std::marker::PhantomData;
    use subxt::ext::frame_metadata::v15::{
        CustomMetadata, ExtrinsicMetadata, OuterEnums, RuntimeMetadataV15, SignedExtensionMetadata,
    };
    use subxt::ext::frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed, META_RESERVED};

    // Types that exist only for their shape in the metadata.

    #[derive(TypeInfo)]
    struct CheckSpecVersion;
    #[derive(TypeInfo)]
    #[allow(dead_code)]
    struct CheckNonce(#[codec(compact)] u32);
    #[derive(TypeInfo)]
    #[allow(dead_code)]
    struct ChargeTransactionPayment(#[codec(compact)] u64);
    #[derive(TypeInfo)]
    #[allow(dead_code)]
    struct ChargeTransactionPaymentWrapper(ChargeTransactionPayment);
    #[derive(TypeInfo)]
    struct SubtensorTransactionExtension(PhantomData<u8>);
    #[derive(TypeInfo)]
    struct DrandPriority;
    #[derive(TypeInfo)]
    #[allow(dead_code)]
    struct CarriesData(u32);
    #[derive(TypeInfo)]
    enum RuntimeCall {
        #[allow(dead_code)]
        Noop,
    }

    fn ext<V: TypeInfo + 'static, I: TypeInfo + 'static>(
        id: &'static str,
    ) -> SignedExtensionMetadata {
        SignedExtensionMetadata {
            identifier: id,
            ty: meta_type::<V>(),
            additional_signed: meta_type::<I>(),
        }
    }

    fn metadata(extensions: Vec<SignedExtensionMetadata>) -> Metadata {
        let v15 = RuntimeMetadataV15::new(
            vec![],
            ExtrinsicMetadata {
                version: 4,
                address_ty: meta_type::<[u8; 32]>(),
                call_ty: meta_type::<RuntimeCall>(),
                signature_ty: meta_type::<[u8; 64]>(),
                extra_ty: meta_type::<()>(),
                signed_extensions: extensions,
            },
            meta_type::<()>(),
            vec![],
            OuterEnums {
                call_enum_ty: meta_type::<RuntimeCall>(),
                event_enum_ty: meta_type::<RuntimeCall>(),
                error_enum_ty: meta_type::<RuntimeCall>(),
            },
            CustomMetadata {
                map: Default::default(),
            },
        );
        RuntimeMetadataPrefixed(META_RESERVED, RuntimeMetadata::V15(v15))
            .try_into()
            .unwrap()
    }

    fn facts() -> ChainFacts {
        ChainFacts {
            genesis_hash: H256([7; 32]),
            spec_version: 393,
            transaction_version: 3,
        }
    }

    #[test]
    fn later_runtime_extensions_are_encoded_from_their_types() {
        let m = metadata(vec![
            ext::<CheckSpecVersion, u32>("CheckSpecVersion"),
            ext::<CheckNonce, ()>("CheckNonce"),
            ext::<ChargeTransactionPaymentWrapper, ()>("ChargeTransactionPaymentWrapper"),
            ext::<SubtensorTransactionExtension, ()>("SubtensorTransactionExtension"),
            ext::<DrandPriority, ()>("DrandPriority"),
        ]);
        let params = ExtensionParams {
            nonce: Some(5),
            tip: 7,
            ..ExtensionParams::default()
        };
        let exts = encode_extensions(&m, facts(), &params).unwrap();
        let got: Vec<(&str, Vec<u8>, Vec<u8>)> = exts
            .iter()
            .map(|e| (e.identifier.as_str(), e.value.clone(), e.implicit.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("CheckSpecVersion", vec![], 393u32.to_le_bytes().to_vec()),
                ("CheckNonce", vec![5 << 2], vec![]),
                ("ChargeTransactionPaymentWrapper", vec![7 << 2], vec![]),
                ("SubtensorTransactionExtension", vec![], vec![]),
                ("DrandPriority", vec![], vec![]),
            ]
        );
        // Without a nonce nothing is guessed.
        let err = encode_extensions(&m, facts(), &ExtensionParams::default()).unwrap_err();
        assert!(matches!(err, ExtensionError::Missing { .. }), "{err}");
    }

    #[test]
    fn an_unknown_extension_with_data_is_refused_by_name() {
        let m = metadata(vec![ext::<CarriesData, ()>("NewExtension")]);
        let err = encode_extensions(&m, facts(), &ExtensionParams::default()).unwrap_err();
        assert!(err.to_string().contains("NewExtension"), "{err}");
        assert!(err.to_string().contains("CarriesData"), "{err}");
    }
}
