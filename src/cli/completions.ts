/**
 * `fanout completions bash|zsh|fish`: a completion script generated from commander's own
 * description of the commands, so a new command, option or choice completes without a
 * change here. What `--help` shows is what completes: hidden options are left out, the
 * built-in `--help` and `help` command are in.
 */

/** The shells `fanout completions` writes for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = typeof SHELLS[number];

/** What the scripts read of a commander Option. */
interface OptionInfo {
  readonly flags: string;
  readonly long?: string;
  readonly short?: string;
  readonly description: string;
  /** `<value>`: the option takes a value. */
  readonly required: boolean;
  /** `[value]`: the option may take a value. */
  readonly optional: boolean;
  readonly argChoices?: readonly string[];
}

/** What the scripts read of a commander Argument. */
interface ArgumentInfo {
  readonly description: string;
  readonly required: boolean;
  readonly variadic: boolean;
  readonly argChoices?: readonly string[];
  name(): string;
}

/** What the scripts read of a commander Command; any `Command<…>` fits. */
export interface CommandInfo {
  name(): string;
  summary(): string;
  description(): string;
  readonly registeredArguments: readonly ArgumentInfo[];
  createHelp(): {
    visibleCommands(command: CommandInfo): CommandInfo[];
    visibleOptions(command: CommandInfo): OptionInfo[];
  };
}

/** One option as the scripts need it. */
interface CompletedOption {
  /** `--long` and `-s`, as written. */
  flags: string[];
  description: string;
  takesValue: boolean;
  optionalValue: boolean;
  /** What the value is called in `--help` (`<order>` → "order"). */
  valueName: string;
  /** The allowed values, or null for a file or folder name. */
  choices: readonly string[] | null;
}

/** One command (or the program itself) as the scripts need it. */
interface CompletedCommand {
  name: string;
  description: string;
  options: CompletedOption[];
  arguments: readonly ArgumentInfo[];
}

const oneLine = (text: string) => text.split("\n")[0].replace(/\s+/g, " ").trim();

function completedCommand(command: CommandInfo): CompletedCommand {
  const options = command.createHelp().visibleOptions(command).map((option) => ({
    flags: [option.long, option.short].filter((flag): flag is string => flag !== undefined),
    description: oneLine(option.description),
    takesValue: option.required || option.optional,
    optionalValue: option.optional,
    valueName: /[<[]([^>\]]*)[>\]]/.exec(option.flags)?.[1] ?? "value",
    choices: option.argChoices ?? null,
  }));
  return {
    name: command.name(),
    description: oneLine(command.summary() || command.description()),
    options,
    arguments: command.registeredArguments,
  };
}

/**
 * The completion script for `shell`, from the commands of `program` (commander's root
 * Command), with how to install it in a comment at the top.
 *
 * @example
 * console.log(completionScript("bash", program));
 */
export function completionScript(shell: Shell, program: CommandInfo): string {
  const root = completedCommand(program);
  const commands = program.createHelp().visibleCommands(program).map(completedCommand);
  const write = { bash: bashScript, zsh: zshScript, fish: fishScript }[shell];
  return write(root, commands);
}

/** Quotes a word for bash and zsh: as is when plainly safe, else in single quotes. */
function shQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The values a command's positional arguments complete: their choices, and file names. */
function positionals(command: CompletedCommand): { choices: string[]; files: boolean } {
  return {
    choices: command.arguments.flatMap((argument) => argument.argChoices ?? []),
    files: command.arguments.some((argument) => !argument.argChoices),
  };
}

function bashScript(root: CompletedCommand, commands: CompletedCommand[]): string {
  // compgen -W expands its words, so each is quoted, then the list is quoted as one word.
  const words = (list: readonly string[]) => shQuote(list.map(shQuote).join(" "));
  const flags = (options: CompletedOption[]) => options.flatMap((option) => option.flags);
  const body = (command: CompletedCommand, positional: string) => {
    const values = command.options.filter((option) => option.takesValue).map((option) =>
      `        ${option.flags.map(shQuote).join("|")}) _fanout_reply ${
        option.choices ? words(option.choices) : "'' files"
      }; return ;;`
    );
    return [
      ...(values.length ? ["      case $prev in", ...values, "      esac"] : []),
      "      if [[ $cur == -* ]]; then",
      `        _fanout_reply ${words(flags(command.options))}`,
      "      else",
      `        ${positional}`,
      "      fi",
    ];
  };
  const commandArms = commands.flatMap((command) => {
    const { choices, files } = positionals(command);
    return [
      `    ${shQuote(command.name)})`,
      ...body(command, `_fanout_reply ${words(choices)}${files ? " files" : ""}`),
      "      ;;",
    ];
  });
  const rootValueFlags = flags(root.options.filter((option) => option.takesValue));
  return [
    "# bash completion for fanout. Install it with",
    "#   fanout completions bash > ~/.local/share/bash-completion/completions/fanout",
    "# (bash-completion loads it when needed), or add to ~/.bashrc:",
    "#   source <(fanout completions bash)",
    "",
    "# COMPREPLY: the words of $1 that start with $cur, and with $2 = files, file names too.",
    "_fanout_reply() {",
    "  [[ $2 == files ]] && compopt -o filenames 2>/dev/null",
    '  mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur"; [[ $2 == files ]] && compgen -f -- "$cur")',
    "}",
    "",
    "_fanout() {",
    "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} command='' i",
    '  # bash splits "--name=value" at "=": complete the value of the option before it.',
    '  [[ $cur == "=" ]] && cur=""',
    '  [[ $prev == "=" && COMP_CWORD -ge 2 ]] && prev=${COMP_WORDS[COMP_CWORD-2]}',
    "  # The command is the first word that is neither an option nor an option's value.",
    "  for ((i = 1; i < COMP_CWORD; i++)); do",
    "    case ${COMP_WORDS[i]} in",
    ...(rootValueFlags.length
      ? [
        `      ${
          rootValueFlags.map(shQuote).join("|")
        }) [[ \${COMP_WORDS[i+1]} == "=" ]] || ((i++)) ;;`,
      ]
      : []),
    "      -*) ;;",
    '      "=") ((i++)) ;;',
    "      *) command=${COMP_WORDS[i]}; break ;;",
    "    esac",
    "  done",
    "  case $command in",
    "    '')",
    ...body(root, `_fanout_reply ${words(commands.map((command) => command.name))}`),
    "      ;;",
    ...commandArms,
    "  esac",
    "}",
    "",
    "complete -F _fanout fanout",
    "",
  ].join("\n");
}

/** Escapes what _arguments reads in an explanation, a message or a value list. */
function zshEscape(text: string, special: RegExp): string {
  return text.replace(special, "\\$&");
}

function zshAction(choices: readonly string[] | null): string {
  if (!choices) return "_files";
  return `(${choices.map((choice) => zshEscape(choice, /[^A-Za-z0-9_./=@%+,-]/g)).join(" ")})`;
}

/**
 * The _arguments specs of one option, one per flag. An option with a value may be given
 * again (commander cannot tell an option that collects its values from one whose last value
 * wins, and repeating either is harmless); a flag is offered once.
 */
function zshOptionSpecs(option: CompletedOption): string[] {
  const repeat = option.takesValue;
  const exclusive = !repeat && option.flags.length > 1 ? `(${option.flags.join(" ")})` : "";
  const explanation = option.description ? `[${zshEscape(option.description, /[\\[\]]/g)}]` : "";
  const value = option.takesValue
    ? `${option.optionalValue ? "::" : ":"}${zshEscape(option.valueName, /[\\:]/g)}:${
      zshAction(option.choices)
    }`
    : "";
  return option.flags.map((flag) => {
    const takes = option.takesValue ? (flag.startsWith("--") ? "=" : "+") : "";
    return shQuote(`${exclusive}${repeat ? "*" : ""}${flag}${takes}${explanation}${value}`);
  });
}

function zshArgumentSpecs(command: CompletedCommand): string[] {
  return command.arguments.map((argument, index) => {
    const position = argument.variadic ? "*" : `${index + 1}`;
    const optional = !argument.required && !argument.variadic ? ":" : "";
    const message = zshEscape(argument.description || argument.name(), /[\\:]/g);
    return shQuote(`${position}:${optional}${message}:${zshAction(argument.argChoices ?? null)}`);
  });
}

const zshFunction = (command: CompletedCommand) => `_fanout_${command.name.replace(/\W/g, "_")}`;

function zshArguments(flags: string, specs: string[]): string[] {
  return [
    `  _arguments ${flags} \\`,
    ...specs.map((spec, i) => `    ${spec}${i < specs.length - 1 ? " \\" : ""}`),
  ];
}

function zshScript(root: CompletedCommand, commands: CompletedCommand[]): string {
  const describe = commands.map((command) =>
    `    ${shQuote(`${zshEscape(command.name, /[\\:]/g)}:${command.description}`)}`
  );
  const subcommands = commands.flatMap((command) => [
    `${zshFunction(command)}() {`,
    ...zshArguments("-s -S", [
      ...command.options.flatMap(zshOptionSpecs),
      ...zshArgumentSpecs(command),
    ]),
    "}",
    "",
  ]);
  return [
    "#compdef fanout",
    "# zsh completion for fanout. Install it as _fanout in a folder of $fpath:",
    "#   mkdir -p ~/.zfunc && fanout completions zsh > ~/.zfunc/_fanout",
    "# with `fpath=(~/.zfunc $fpath)` before `compinit` in ~/.zshrc; or add",
    "# `source <(fanout completions zsh)` after `compinit`.",
    "",
    "_fanout() {",
    "  local curcontext=$curcontext state line",
    "  typeset -A opt_args",
    ...zshArguments("-s -C", [
      ...root.options.flatMap(zshOptionSpecs),
      "'1: :->command'",
      "'*:: :->argument'",
    ]),
    "  case $state in",
    "    command)",
    "      local -a commands=(",
    ...describe.map((line) => `    ${line}`),
    "      )",
    "      _describe -t commands 'fanout command' commands",
    "      ;;",
    "    argument)",
    "      curcontext=${curcontext%:*:*}:fanout-$line[1]:",
    "      case $line[1] in",
    ...commands.map((command) => `        ${shQuote(command.name)}) ${zshFunction(command)} ;;`),
    "      esac",
    "      ;;",
    "  esac",
    "}",
    "",
    ...subcommands,
    "# Autoloaded, the file is _fanout's body and completes; sourced, it registers _fanout.",
    'if [[ $funcstack[1] == _fanout ]]; then _fanout "$@"; else compdef _fanout fanout; fi',
    "",
  ].join("\n");
}

/** Quotes a word for fish: as is when plainly safe, else in single quotes. */
function fishQuote(word: string): string {
  if (/^[A-Za-z0-9_./:=@+,-]+$/.test(word)) return word;
  return `'${word.replace(/['\\]/g, "\\$&")}'`;
}

function fishOption(condition: string, option: CompletedOption): string {
  const words = ["complete -c fanout -n", fishQuote(condition)];
  for (const flag of option.flags) {
    words.push(flag.startsWith("--") ? "-l" : "-s", fishQuote(flag.replace(/^--?/, "")));
  }
  if (option.description) words.push("-d", fishQuote(option.description));
  if (option.takesValue && option.choices) {
    words.push("-x -a", fishQuote(option.choices.map(fishQuote).join(" ")));
  } else if (option.takesValue) words.push("-r -F");
  return words.join(" ");
}

function fishScript(root: CompletedCommand, commands: CompletedCommand[]): string {
  const names = commands.map((command) => fishQuote(command.name)).join(" ");
  const atRoot = `not __fish_seen_subcommand_from ${names}`;
  const lines = [
    "# fish completion for fanout. Install it with",
    "#   fanout completions fish > ~/.config/fish/completions/fanout.fish",
    "",
    "# File names only where an argument or option takes one.",
    "complete -c fanout -f",
    ...commands.map((command) =>
      `complete -c fanout -n ${fishQuote(atRoot)} -a ${fishQuote(command.name)}${
        command.description ? ` -d ${fishQuote(command.description)}` : ""
      }`
    ),
    ...root.options.map((option) => fishOption(atRoot, option)),
  ];
  for (const command of commands) {
    const condition = `__fish_seen_subcommand_from ${fishQuote(command.name)}`;
    const { choices, files } = positionals(command);
    lines.push("", ...command.options.map((option) => fishOption(condition, option)));
    if (choices.length) {
      lines.push(
        `complete -c fanout -n ${fishQuote(condition)} -a ${
          fishQuote(choices.map(fishQuote).join(" "))
        }`,
      );
    }
    if (files) lines.push(`complete -c fanout -n ${fishQuote(condition)} -F`);
  }
  return lines.join("\n") + "\n";
}
