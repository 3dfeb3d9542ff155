//! Every problem of the command line and the environment, listed at once.
//!
//! The checks themselves are clap value parsers (see `config.rs`, which
//! calls the rules of `db`, `auth` and `codes`), so they run before anything
//! else, before any connection. clap stops at the first value it cannot
//! take; when it does, the values are read again as text and each one is
//! given to its own parser alone, so that one message names every problem
//! with the flag and variable it came from. A value that may hold a secret
//! (an argument with `hide_env_values`) is never shown.

use std::ffi::{OsStr, OsString};

use clap::builder::ValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};

/// Why the command line could not be read.
#[derive(Debug)]
pub enum Failure {
    /// What clap says (help, version, a missing or unknown argument).
    Clap(clap::Error),
    /// One message with a line per problem.
    Problems(String),
}

/// Reads `args` (and the environment) into `T`; on failure, prints why and
/// exits (2, as clap does for a usage error).
pub fn parse_or_exit<T: CommandFactory + FromArgMatches>(args: impl IntoIterator<Item = OsString>) -> T {
    let args: Vec<OsString> = args.into_iter().collect();
    match try_parse(&args) {
        Ok(parsed) => parsed,
        Err(Failure::Clap(error)) => error.exit(),
        Err(Failure::Problems(message)) => {
            eprint!("{message}");
            std::process::exit(2);
        }
    }
}

pub fn try_parse<T: CommandFactory + FromArgMatches>(args: &[OsString]) -> Result<T, Failure> {
    let command = T::command();
    let error = match command.clone().try_get_matches_from(args) {
        Ok(mut matches) => return T::from_arg_matches_mut(&mut matches).map_err(Failure::Clap),
        Err(error) => error,
    };
    if !matches!(error.kind(), ErrorKind::ValueValidation | ErrorKind::InvalidValue | ErrorKind::ArgumentConflict) {
        return Err(Failure::Clap(error));
    }
    let (name, mut problems) = every_problem(&command, args);
    if problems.is_empty() {
        match error.kind() {
            // clap's message of a conflict shows no value.
            ErrorKind::ArgumentConflict => return Err(Failure::Clap(error)),
            _ => problems.push(without_value(&error)),
        }
    }
    let count = match problems.len() {
        1 => "a problem".to_owned(),
        n => format!("{n} problems"),
    };
    let mut message =
        format!("error: `{name}` cannot run: {count} in its configuration (command line and environment):\n");
    for problem in problems {
        message.push_str(&format!("  - {problem}\n"));
    }
    message.push_str("\nFor more information, try '--help'.\n");
    Err(Failure::Problems(message))
}

/// Every value of the active (sub)command that its parser refuses, and
/// every pair of arguments given together that exclude each other.
fn every_problem(command: &Command, args: &[OsString]) -> (String, Vec<String>) {
    let textual = |command: Command| {
        command.mut_args(|arg| match arg.get_action().takes_values() {
            true => arg.value_parser(ValueParser::os_string()),
            false => arg,
        })
    };
    let lenient = textual(command.clone().ignore_errors(true)).mut_subcommands(textual);
    let Ok(matches) = lenient.try_get_matches_from(args) else { return (command.get_name().to_owned(), vec![]) };
    let (active, matches): (&Command, &ArgMatches) = match matches.subcommand() {
        Some((name, sub)) => match command.find_subcommand(name) {
            Some(subcommand) => (subcommand, sub),
            None => return (name.to_owned(), vec![]),
        },
        None => (command, &matches),
    };
    let name = match active.get_name() == command.get_name() {
        true => command.get_name().to_owned(),
        false => format!("{} {}", command.get_name(), active.get_name()),
    };
    let mut problems = Vec::new();
    for arg in active.get_arguments().filter(|arg| arg.get_action().takes_values()) {
        let id = arg.get_id().as_str();
        let (Some(values), Some(source)) = (matches.get_raw(id), matches.value_source(id)) else { continue };
        for value in values {
            if let Err(error) = check_value(arg, value) {
                problems.push(format!("{}: {}", origin(arg, source, value), reason(&error)));
            }
        }
    }
    let given = |arg: &Arg| matches.value_source(arg.get_id().as_str()).is_some_and(|s| s != ValueSource::DefaultValue);
    for arg in active.get_arguments().filter(|arg| given(arg)) {
        for other in active.get_arg_conflicts_with(arg).into_iter().filter(|other| given(other)) {
            problems.push(format!(
                "{} and {} exclude each other: configure one of them",
                flag_and_variable(arg),
                flag_and_variable(other)
            ));
        }
    }
    (name, problems)
}

/// `arg`'s own parser on `value` alone.
fn check_value(arg: &Arg, value: &OsStr) -> Result<(), clap::Error> {
    let alone = Command::new("value").no_binary_name(true).arg(
        Arg::new("value").value_parser(arg.get_value_parser().clone()).action(ArgAction::Set).allow_hyphen_values(true),
    );
    alone.try_get_matches_from([OsStr::new("--"), value]).map(|_| ())
}

fn flag_and_variable(arg: &Arg) -> String {
    let flag = arg.get_long().map(|long| format!("--{long}")).unwrap_or_else(|| arg.get_id().to_string());
    match arg.get_env() {
        Some(variable) => format!("{flag} ({})", variable.to_string_lossy()),
        None => flag,
    }
}

/// Where a value came from, with the value unless it may be a secret.
fn origin(arg: &Arg, source: ValueSource, value: &OsStr) -> String {
    let flag = arg.get_long().map(|long| format!("--{long}")).unwrap_or_else(|| arg.get_id().to_string());
    let value = (!arg.is_hide_env_values_set()).then(|| format!("{:?}", value.to_string_lossy()));
    match (source, arg.get_env(), value) {
        (ValueSource::EnvVariable, Some(variable), value) => {
            format!("{}{} ({flag})", variable.to_string_lossy(), value.map(|v| format!("={v}")).unwrap_or_default())
        }
        (ValueSource::DefaultValue, _, value) => {
            format!("{flag} (its default{})", value.map(|v| format!(" {v}")).unwrap_or_default())
        }
        (_, _, value) => format!("{flag}{}", value.map(|v| format!(" {v}")).unwrap_or_default()),
    }
}

/// What a parser said about a value, without the value.
fn reason(error: &clap::Error) -> String {
    if let Some(source) = std::error::Error::source(error) {
        return source.to_string();
    }
    match error.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(valid)) => format!("expected one of: {}", valid.join(", ")),
        _ => error.kind().as_str().unwrap_or("invalid value").to_owned(),
    }
}

/// clap's error about a value, said without the value (it may be a secret).
fn without_value(error: &clap::Error) -> String {
    match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => format!("{arg}: {}", reason(error)),
        _ => reason(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Cli;

    fn problems(args: &[&str]) -> String {
        let args: Vec<OsString> = std::iter::once("jeugdregio").chain(args.iter().copied()).map(Into::into).collect();
        match try_parse::<Cli>(&args) {
            Err(Failure::Problems(message)) => message,
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    #[test]
    fn every_problem_is_listed_at_once_and_no_secret_is_shown() {
        let message = problems(&[
            "serve",
            "--listen",
            "nonsense",
            "--jwt-secret",
            "hunter2",
            "--max-in-flight",
            "0",
            "--execution-timeout",
            "0s",
            "--database-url",
            "sqlite:///nonexistent-directory/registry.sqlite",
        ]);
        assert!(
            message.starts_with("error: `jeugdregio serve` cannot run: 5 problems in its configuration"),
            "{message}"
        );
        for expected in [
            "  - --listen \"nonsense\": invalid socket address syntax\n",
            "  - --jwt-secret: the JWT secret must be at least 32 bytes; this one has 7",
            "  - --max-in-flight \"0\": must be at least 1\n",
            "  - --execution-timeout \"0s\": must be longer than 0 s",
            "  - --database-url: the directory /nonexistent-directory of the SQLite file /nonexistent-directory/registry.sqlite does not exist: create it",
        ] {
            assert!(message.contains(expected), "{expected:?} is not in:\n{message}");
        }
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn a_secret_and_a_public_key_exclude_each_other() {
        let key = tempfile::NamedTempFile::new().unwrap();
        let message = problems(&[
            "serve",
            "--jwt-secret",
            "a-secret-that-is-long-enough-for-hs256",
            "--jwt-public-key",
            key.path().to_str().unwrap(),
        ]);
        assert!(message.contains("2 problems in its configuration"), "{message}");
        assert!(message.contains("neither an RSA nor an Ed25519 public key"), "{message}");
        assert!(
            message.contains(
                "--jwt-secret (JEUGDREGIO_JWT_SECRET) and --jwt-public-key (JEUGDREGIO_JWT_PUBLIC_KEY) exclude each other"
            ),
            "{message}"
        );
    }
}
