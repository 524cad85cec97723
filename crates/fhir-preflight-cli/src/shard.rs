//! `--shard INDEX/COUNT`: one machine's part of the inputs. Every input (file or object) is in
//! exactly one part: the inputs, largest first (ties by record name), each go to the part with the
//! fewest bytes so far (ties to the lowest index) — the same answer on every machine for the same
//! listing, balanced by size. The part keeps the inputs' order. `merge -o` combines the parts.

use crate::inputs::Input;

/// Which part, of how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shard {
    pub(crate) index: u32,
    pub(crate) count: u32,
}

/// The variables array jobs set: AWS Batch, Kubernetes Indexed Jobs.
const INDEX_VARIABLES: [&str; 2] = ["AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"];

impl Shard {
    /// `INDEX/COUNT`, or `auto/COUNT` with INDEX from the array job's variable (`env`).
    pub(crate) fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let (index, count) = text.split_once('/').ok_or_else(|| format!("{text:?} is not INDEX/COUNT"))?;
        let count: u32 =
            count.parse().ok().filter(|&c| c > 0).ok_or_else(|| format!("{count:?} is not a count ≥ 1"))?;
        let index = if index == "auto" {
            let (name, value) = INDEX_VARIABLES
                .iter()
                .find_map(|name| env(name).map(|v| (*name, v)))
                .ok_or_else(|| format!("auto/{count}: neither {} is set", INDEX_VARIABLES.join(" nor ")))?;
            value.trim().parse::<u32>().map_err(|_| format!("{name}={value:?} is not an index"))?
        } else {
            index.parse().map_err(|_| format!("{index:?} is not an index"))?
        };
        if index >= count {
            return Err(format!("index {index} is not below the count {count} (indexes start at 0)"));
        }
        Ok(Shard { index, count })
    }

    /// This part of `inputs` (sizes from [`Input::size`]; unknown: 0).
    pub(crate) fn select(self, inputs: Vec<Input>) -> Vec<Input> {
        let sizes: Vec<u64> = inputs.iter().map(|i| i.size().unwrap_or(0)).collect();
        let part = assign(&sizes, &inputs.iter().map(|i| i.record_name.as_str()).collect::<Vec<_>>(), self.count);
        inputs.into_iter().zip(part).filter(|(_, p)| *p == self.index).map(|(i, _)| i).collect()
    }
}

/// The part of each input: largest first, to the lightest part.
fn assign(sizes: &[u64], names: &[&str], count: u32) -> Vec<u32> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then_with(|| names[a].cmp(names[b])));
    let mut load = vec![0u64; count as usize];
    let mut part = vec![0u32; sizes.len()];
    for i in order {
        let lightest = (0..load.len()).min_by_key(|&p| (load[p], p)).unwrap_or(0);
        load[lightest] += sizes[i];
        part[i] = lightest as u32;
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        let none = |_: &str| None;
        assert_eq!(Shard::parse("1/4", none), Ok(Shard { index: 1, count: 4 }));
        assert!(Shard::parse("4/4", none).is_err());
        assert!(Shard::parse("0/0", none).is_err());
        assert!(Shard::parse("x", none).is_err());
        assert!(Shard::parse("auto/4", none).unwrap_err().contains("AWS_BATCH_JOB_ARRAY_INDEX"));
        let batch = |n: &str| (n == "AWS_BATCH_JOB_ARRAY_INDEX").then(|| "3".to_owned());
        assert_eq!(Shard::parse("auto/4", batch), Ok(Shard { index: 3, count: 4 }));
        let k8s = |n: &str| (n == "JOB_COMPLETION_INDEX").then(|| "2".to_owned());
        assert_eq!(Shard::parse("auto/3", k8s), Ok(Shard { index: 2, count: 3 }));
    }

    #[test]
    fn every_input_in_exactly_one_balanced_part() {
        let sizes: Vec<u64> = (0..50).map(|i| (i * 7919 % 101) * 1000 + 1).collect();
        let names: Vec<String> = (0..50).map(|i| format!("f{i:02}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let part = assign(&sizes, &names, 4);
        assert_eq!(part, assign(&sizes, &names, 4), "deterministic");
        let mut load = [0u64; 4];
        for (i, p) in part.iter().enumerate() {
            load[*p as usize] += sizes[i];
        }
        let (min, max) = (load.iter().min().unwrap(), load.iter().max().unwrap());
        assert!(max - min <= *sizes.iter().max().unwrap(), "{load:?}");
    }
}
