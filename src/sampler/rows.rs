//! Who each row of a batch is: instance id, class label, (sequence, position).

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

use crate::{Error, Result};

/// The id of a row whose identity a source does not know (an explicit negative among
/// identified rows). `i32::MIN`, so it fits every backend's integer type; it never equals a
/// real id unless a data source uses it.
pub const UNKNOWN_ID: i64 = i32::MIN as i64;

/// The identity of a batch's rows on the host, as a data source knows it: each field
/// optional, each `n` long when present.
///
/// Both views of one image share an instance id; a label is a class index; a (sequence,
/// position) pair places a row in time (CPC). Models upload it to the device with
/// [`RowIds::to_device`] (an `O(n)` transfer).
///
/// # Example
/// ```
/// use infonce::sampler::RowIds;
///
/// let ids = RowIds::default().with_instance(vec![7, 8, 9]).with_label(vec![0, 1, 0]);
/// assert_eq!(ids.len(), Some(3));
/// ids.check(3).unwrap();
/// assert!(ids.check(4).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowIds {
    /// Instance id of each row (which example it was drawn from).
    pub instance: Option<Vec<i64>>,
    /// Class label of each row.
    pub label: Option<Vec<i64>>,
    /// Sequence of each row.
    pub sequence: Option<Vec<i64>>,
    /// Position (time step) of each row within its sequence.
    pub position: Option<Vec<i64>>,
}

impl RowIds {
    /// Sets the instance ids.
    #[must_use]
    pub fn with_instance(mut self, ids: Vec<i64>) -> Self {
        self.instance = Some(ids);
        self
    }

    /// Sets the labels.
    #[must_use]
    pub fn with_label(mut self, labels: Vec<i64>) -> Self {
        self.label = Some(labels);
        self
    }

    /// Sets the (sequence, position) pairs.
    #[must_use]
    pub fn with_sequence_position(mut self, sequence: Vec<i64>, position: Vec<i64>) -> Self {
        self.sequence = Some(sequence);
        self.position = Some(position);
        self
    }

    fn fields(&self) -> [(&'static str, Option<&Vec<i64>>); 4] {
        [
            ("instance", self.instance.as_ref()),
            ("label", self.label.as_ref()),
            ("sequence", self.sequence.as_ref()),
            ("position", self.position.as_ref()),
        ]
    }

    /// The length of the first field present.
    pub fn len(&self) -> Option<usize> {
        self.fields().iter().find_map(|(_, f)| f.map(Vec::len))
    }

    /// Whether no field is present.
    pub fn is_empty(&self) -> bool {
        self.len().is_none()
    }

    /// Checks every present field is `n` long.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] naming the field.
    pub fn check(&self, n: usize) -> Result<()> {
        for (name, field) in self.fields() {
            if let Some(f) = field.filter(|f| f.len() != n) {
                return Err(Error::shape(
                    format!("row {name} ids"),
                    n.to_string(),
                    f.len().to_string(),
                ));
            }
        }
        Ok(())
    }

    /// The ids as device vectors.
    pub fn to_device<B: Backend>(&self, device: &B::Device) -> Rows<B> {
        let up = |v: &Option<Vec<i64>>| {
            v.as_ref()
                .map(|v| Tensor::from_data(TensorData::new(v.clone(), [v.len()]), device))
        };
        Rows {
            instance: up(&self.instance),
            label: up(&self.label),
            sequence: up(&self.sequence),
            position: up(&self.position),
            owner: None,
        }
    }
}

/// Reads one id field of a [`Rows`].
type IdField<B> = dyn Fn(&Rows<B>) -> Option<Tensor<B, 1, Int>>;

/// The identity of a set of rows on the device: `[n]` integer vectors, each optional.
///
/// Samplers build masks from these ([`crate::loss::Mask::Equal`]): a queue never offers a
/// row its own instance, supervised contrastive finds same-label positives, a sequence
/// sampler picks negatives by time step.
#[derive(Debug, Clone)]
pub struct Rows<B: Backend> {
    /// Instance id per row.
    pub instance: Option<Tensor<B, 1, Int>>,
    /// Class label per row.
    pub label: Option<Tensor<B, 1, Int>>,
    /// Sequence per row.
    pub sequence: Option<Tensor<B, 1, Int>>,
    /// Position within the sequence per row.
    pub position: Option<Tensor<B, 1, Int>>,
    /// Rank of the data-parallel peer that embedded the row (set by the trainer when it
    /// gathers embeddings across peers, so each peer can keep its own rows' loss; see
    /// `infonce::parallel`). Samplers pass it along like the other ids.
    pub owner: Option<Tensor<B, 1, Int>>,
}

impl<B: Backend> Default for Rows<B> {
    fn default() -> Self {
        Self::none()
    }
}

impl<B: Backend> Rows<B> {
    /// Rows with no identity.
    pub fn none() -> Self {
        Self {
            instance: None,
            label: None,
            sequence: None,
            position: None,
            owner: None,
        }
    }

    /// Checks every present field is `n` long.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] naming the field.
    pub fn check(&self, n: usize) -> Result<()> {
        let fields = [
            ("instance", &self.instance),
            ("label", &self.label),
            ("sequence", &self.sequence),
            ("position", &self.position),
            ("owner", &self.owner),
        ];
        for (name, field) in fields {
            if let Some(len) = field.as_ref().map(|t| t.dims()[0]).filter(|&l| l != n) {
                return Err(Error::shape(
                    format!("row {name} ids"),
                    n.to_string(),
                    len.to_string(),
                ));
            }
        }
        Ok(())
    }

    /// The rows of several sets one after another, each given with its length. A field
    /// present in some parts only is filled with [`UNKNOWN_ID`] in the others; a field no
    /// part has stays absent.
    pub fn cat(parts: Vec<(Rows<B>, usize)>) -> Self {
        let device = parts.iter().find_map(|(r, _)| r.device());
        let Some(device) = device else {
            return Self::none();
        };
        let join = |get: &IdField<B>| {
            let fields: Vec<_> = parts.iter().map(|(r, n)| (get(r), *n)).collect();
            if fields.iter().all(|(f, _)| f.is_none()) {
                return None;
            }
            let filled = fields
                .into_iter()
                .map(|(f, n)| f.unwrap_or_else(|| Tensor::full([n], UNKNOWN_ID, &device)))
                .collect();
            Some(Tensor::cat(filled, 0))
        };
        Self {
            instance: join(&|r| r.instance.clone()),
            label: join(&|r| r.label.clone()),
            sequence: join(&|r| r.sequence.clone()),
            position: join(&|r| r.position.clone()),
            owner: join(&|r| r.owner.clone()),
        }
    }

    fn device(&self) -> Option<B::Device> {
        [
            &self.instance,
            &self.label,
            &self.sequence,
            &self.position,
            &self.owner,
        ]
        .into_iter()
        .find_map(|f| f.as_ref().map(|t| t.device()))
    }

    /// The `n` rows `k` times over (the two-view layout is the batch's rows twice).
    pub fn repeat(&self, n: usize, k: usize) -> Self {
        Self::cat(vec![(self.clone(), n); k])
    }

    /// Rows `index` of each field (a paired negative inherits its row's identity).
    pub fn select(&self, index: Tensor<B, 1, Int>) -> Self {
        let pick = |f: &Option<Tensor<B, 1, Int>>| f.clone().map(|t| t.select(0, index.clone()));
        Self {
            instance: pick(&self.instance),
            label: pick(&self.label),
            sequence: pick(&self.sequence),
            position: pick(&self.position),
            owner: pick(&self.owner),
        }
    }
}
