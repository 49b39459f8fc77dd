//! Runbooks: ordered checklists of steps (instructions in Markdown, an optional command to
//! copy, the result to expect), and the outcome of each step of a run.
//!
//! A runbook is written as text, one step per `## ` heading:
//!
//! ```text
//! ## Check disk space
//! Look at the data volume.
//! $ df -h /var/lib/postgresql
//! => Use% below 80
//! ```
//!
//! Lines starting with `$ ` are the command, `=> ` the expected result, the rest instructions.

use crate::Invalid;

/// Most steps in a runbook.
pub const MAX_STEPS: usize = 100;

/// One step of a runbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What to do, in a line.
    pub title: String,
    /// How, in Markdown.
    pub instructions: String,
    /// A command to copy, if any.
    pub command: String,
    /// What a good result looks like, if said.
    pub expected: String,
}

/// Reads the text form of a runbook's steps for `field`.
pub fn parse_steps(field: &'static str, text: &str) -> Result<Vec<Step>, Invalid> {
    let mut steps: Vec<Step> = Vec::new();
    for (n, line) in text.replace("\r\n", "\n").lines().enumerate() {
        if let Some(title) = line.strip_prefix("## ") {
            steps.push(Step {
                title: title.trim().to_owned(),
                instructions: String::new(),
                command: String::new(),
                expected: String::new(),
            });
            continue;
        }
        let Some(step) = steps.last_mut() else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(Invalid::new(
                field,
                format!("line {}: steps start with a '## ' heading", n + 1),
            ));
        };
        if let Some(command) = line.strip_prefix("$ ") {
            if !step.command.is_empty() {
                step.command.push('\n');
            }
            step.command.push_str(command.trim_end());
        } else if let Some(expected) = line.strip_prefix("=> ") {
            if !step.expected.is_empty() {
                step.expected.push(' ');
            }
            step.expected.push_str(expected.trim());
        } else {
            step.instructions.push_str(line);
            step.instructions.push('\n');
        }
    }
    for step in &mut steps {
        step.instructions = step.instructions.trim().to_owned();
    }
    check_steps(field, &steps)?;
    Ok(steps)
}

/// Checks a runbook's steps: 1 to [`MAX_STEPS`], each with a one-line title.
pub fn check_steps(field: &'static str, steps: &[Step]) -> Result<(), Invalid> {
    if steps.is_empty() {
        return Err(Invalid::new(
            field,
            "a runbook needs at least one step ('## Title')",
        ));
    }
    if steps.len() > MAX_STEPS {
        return Err(Invalid::new(field, format!("at most {MAX_STEPS} steps")));
    }
    for (i, step) in steps.iter().enumerate() {
        if step.title.trim().is_empty() || step.title.chars().count() > 200 {
            return Err(Invalid::new(
                field,
                format!("step {}: the title must be 1 to 200 characters", i + 1),
            ));
        }
        let text = [
            &step.title,
            &step.instructions,
            &step.command,
            &step.expected,
        ];
        if text.iter().any(|t| {
            t.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
        }) {
            return Err(Invalid::new(
                field,
                format!("step {}: must not contain control characters", i + 1),
            ));
        }
    }
    Ok(())
}

/// The text form of `steps` (what [`parse_steps`] reads back).
pub fn steps_text(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        out.push_str("## ");
        out.push_str(&step.title);
        out.push('\n');
        if !step.instructions.is_empty() {
            out.push_str(&step.instructions);
            out.push('\n');
        }
        for line in step.command.lines() {
            out.push_str("$ ");
            out.push_str(line);
            out.push('\n');
        }
        if !step.expected.is_empty() {
            out.push_str("=> ");
            out.push_str(&step.expected);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// How a step of a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done, with the expected result.
    Done,
    /// Not needed this time.
    Skipped,
    /// Done, but the result was not the expected one.
    Failed,
}

impl Outcome {
    /// Parses `done`, `skipped` or `failed` for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "done" => Ok(Outcome::Done),
            "skipped" => Ok(Outcome::Skipped),
            "failed" => Ok(Outcome::Failed),
            _ => Err(Invalid::new(field, "must be done, skipped or failed")),
        }
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }
}

/// Where an occurrence of a scheduled check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    /// Its run is under way and not yet late.
    Open,
    /// Every step has an outcome, in time.
    Done,
    /// Its window passed with steps left (it may still be finished: then `DoneLate`).
    Late,
    /// Finished after its window.
    DoneLate,
    /// The next occurrence came (or the server was down through it) and it was never finished.
    Missed,
}

impl CheckState {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckState::Open => "open",
            CheckState::Done => "done",
            CheckState::Late => "late",
            CheckState::DoneLate => "done_late",
            CheckState::Missed => "missed",
        }
    }

    /// Parses the stored form.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        match raw {
            "open" => Ok(CheckState::Open),
            "done" => Ok(CheckState::Done),
            "late" => Ok(CheckState::Late),
            "done_late" => Ok(CheckState::DoneLate),
            "missed" => Ok(CheckState::Missed),
            _ => Err(Invalid::new(field, "unknown check state")),
        }
    }

    /// The state once the run is finished, from this one.
    pub fn finished(self) -> Self {
        match self {
            CheckState::Open => CheckState::Done,
            CheckState::Late | CheckState::Missed => CheckState::DoneLate,
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_from_text_and_back() {
        let text = "## Check disk space\nLook at the **data** volume.\n$ df -h /var\n=> Use% below 80\n\n## Restart the worker\n$ systemctl restart worker\n";
        let steps = parse_steps("steps", text).unwrap_or_default();
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].title, "Check disk space");
        assert_eq!(steps[0].instructions, "Look at the **data** volume.");
        assert_eq!(steps[0].command, "df -h /var");
        assert_eq!(steps[0].expected, "Use% below 80");
        assert_eq!(steps[1].command, "systemctl restart worker");
        assert_eq!(parse_steps("steps", &steps_text(&steps)).ok(), Some(steps));
    }

    #[test]
    fn broken_steps_are_refused() {
        assert!(parse_steps("steps", "").is_err());
        let err = parse_steps("steps", "text before a heading").err();
        assert!(err.is_some_and(|e| e.field == "steps" && e.reason.contains("line 1")));
        assert!(parse_steps("steps", "## \nx").is_err());
        assert!(Outcome::parse("outcome", "maybe").is_err());
    }

    #[test]
    fn finishing_a_late_check_is_done_late() {
        assert_eq!(CheckState::Open.finished(), CheckState::Done);
        assert_eq!(CheckState::Late.finished(), CheckState::DoneLate);
        assert_eq!(CheckState::Missed.finished(), CheckState::DoneLate);
    }
}
