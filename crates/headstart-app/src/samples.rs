//! The index of built-in sample photos (`samples/index.txt`): one `class/file` per line.

/// One sample class and its photo files, in the order the index lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleClass {
    /// The class name (the folder).
    pub name: String,
    /// File names inside the folder.
    pub files: Vec<String>,
}

impl SampleClass {
    /// The path of one of its files, relative to the samples folder.
    pub fn path(&self, file: &str) -> String {
        format!("{}/{file}", self.name)
    }
}

/// Reads the index: blank lines and lines without a `/` are ignored; classes keep the order
/// in which they first appear.
pub fn parse_sample_index(index: &str) -> Vec<SampleClass> {
    let mut classes: Vec<SampleClass> = Vec::new();
    for line in index.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let Some((class, file)) = line.split_once('/') else {
            continue;
        };
        match classes.iter_mut().find(|c| c.name == class) {
            Some(entry) => entry.files.push(file.to_string()),
            None => classes.push(SampleClass {
                name: class.to_string(),
                files: vec![file.to_string()],
            }),
        }
    }
    classes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_files_by_class_in_first_seen_order() {
        let classes =
            parse_sample_index("bird/owl.png\n\nfruit/kiwi.png\nnonsense\nbird/hen.png\n");
        assert_eq!(classes.len(), 2);
        assert_eq!(classes[0].name, "bird");
        assert_eq!(classes[0].files, vec!["owl.png", "hen.png"]);
        assert_eq!(classes[1].path("kiwi.png"), "fruit/kiwi.png");
    }
}
