# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_commander_global_optspecs
    string join \n s/schema= I/proto-path= profile= q/quiet m/message= response-type= timeout= link= bytes-as= broker= username= password= ca= cert= key= connect-timeout= client-id= keep-alive= qos= h/help V/version
end

function __fish_commander_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_commander_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_commander_using_subcommand
    set -l cmd (__fish_commander_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c commander -n "__fish_commander_needs_command" -s s -l schema -d 'Schema to load: a descriptor set, a .proto file or a directory of them' -r -F
complete -c commander -n "__fish_commander_needs_command" -s I -l proto-path -l proto_path -d 'Import root for .proto files (repeatable)' -r -F
complete -c commander -n "__fish_commander_needs_command" -l profile -d 'Profile: schema, command and response types, header defaults, MQTT' -r -F
complete -c commander -n "__fish_commander_needs_command" -s m -l message -d 'Message type to build (default: the profile\'s command type)' -r
complete -c commander -n "__fish_commander_needs_command" -l response-type -d 'Type of the replies to decode (default: the profile\'s response type)' -r
complete -c commander -n "__fish_commander_needs_command" -l timeout -d 'How long to wait for a reply after publishing, like 10s' -r
complete -c commander -n "__fish_commander_needs_command" -l link -d 'Envelope link: auto, none, or SELECTOR=ONEOF (field paths, like header.op=body.content)' -r
complete -c commander -n "__fish_commander_needs_command" -l bytes-as -d 'Build the message carried in a bytes field: FIELD.PATH=TYPE (repeatable)' -r
complete -c commander -n "__fish_commander_needs_command" -l broker -d 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS' -r
complete -c commander -n "__fish_commander_needs_command" -l username -d 'Username' -r
complete -c commander -n "__fish_commander_needs_command" -l password -d 'Password (better from the environment: it is never printed)' -r
complete -c commander -n "__fish_commander_needs_command" -l ca -d 'CA certificate (PEM) to trust for mqtts:// instead of the system\'s roots' -r -F
complete -c commander -n "__fish_commander_needs_command" -l cert -d 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)' -r -F
complete -c commander -n "__fish_commander_needs_command" -l key -d 'Private key (PEM) of the client certificate' -r -F
complete -c commander -n "__fish_commander_needs_command" -l connect-timeout -d 'How long the broker may take to accept a connection (each reconnect too)' -r
complete -c commander -n "__fish_commander_needs_command" -l client-id -d 'Client id (default: commander- and a random suffix)' -r
complete -c commander -n "__fish_commander_needs_command" -l keep-alive -d 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)' -r
complete -c commander -n "__fish_commander_needs_command" -l qos -d 'Quality of service: 0, 1 or 2' -r
complete -c commander -n "__fish_commander_needs_command" -s q -l quiet -d 'Leave out notes on stderr (such as which commander.toml is in effect)'
complete -c commander -n "__fish_commander_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c commander -n "__fish_commander_needs_command" -s V -l version -d 'Print version'
complete -c commander -n "__fish_commander_needs_command" -f -a "interactive" -d 'Build command messages at prompts, see them encoded, decode replies (the default)'
complete -c commander -n "__fish_commander_needs_command" -f -a "encode" -d 'Encode JSON or text format into wire bytes'
complete -c commander -n "__fish_commander_needs_command" -f -a "decode" -d 'Decode wire bytes (hex, base64 or binary) into a table, JSON or text'
complete -c commander -n "__fish_commander_needs_command" -f -a "list" -d 'List the message types (and enums, services) of the schema'
complete -c commander -n "__fish_commander_needs_command" -f -a "describe" -d 'Show a message\'s fields, an enum\'s values or a service\'s methods'
complete -c commander -n "__fish_commander_needs_command" -f -a "send" -d 'Publish a command over MQTT and show the decoded reply'
complete -c commander -n "__fish_commander_needs_command" -f -a "listen" -d 'Decode every message on MQTT topics (a fleet\'s replies, telemetry, events)'
complete -c commander -n "__fish_commander_needs_command" -f -a "simulate" -d 'Simulated devices that answer commands and publish telemetry, from the schema alone'
complete -c commander -n "__fish_commander_needs_command" -f -a "web" -d 'The command form and live views in a browser (a local web page)'
complete -c commander -n "__fish_commander_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c commander -n "__fish_commander_needs_command" -f -a "man" -d 'Print the man page (roff)'
complete -c commander -n "__fish_commander_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c commander -n "__fish_commander_using_subcommand interactive" -s m -l message -d 'Message type to build (default: the profile\'s command type)' -r
complete -c commander -n "__fish_commander_using_subcommand interactive" -l response-type -d 'Type of the replies to decode (default: the profile\'s response type)' -r
complete -c commander -n "__fish_commander_using_subcommand interactive" -l timeout -d 'How long to wait for a reply after publishing, like 10s' -r
complete -c commander -n "__fish_commander_using_subcommand interactive" -l link -d 'Envelope link: auto, none, or SELECTOR=ONEOF (field paths, like header.op=body.content)' -r
complete -c commander -n "__fish_commander_using_subcommand interactive" -l bytes-as -d 'Build the message carried in a bytes field: FIELD.PATH=TYPE (repeatable)' -r
complete -c commander -n "__fish_commander_using_subcommand interactive" -l broker -d 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS' -r
complete -c commander -n "__fish_commander_using_subcommand interactive" -l username -d 'Username' -r
complete -c commander -n "__fish_commander_using_subcommand interactive" -l password -d 'Password (better from the environment: it is never printed)' -r
complete -c commander -n "__fish_commander_using_subcommand interactive" -l ca -d 'CA certificate (PEM) to trust for mqtts:// instead of the system\'s roots' -r -F
complete -c commander -n "__fish_commander_using_subcommand interactive" -l cert -d 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)' -r -F
complete -c commander -n "__fish_commander_using_subcommand interactive" -l key -d 'Private key (PEM) of the client certificate' -r -F
complete -c commander -n "__fish_commander_using_subcommand interactive" -l connect-timeout -d 'How long the broker may take to accept a connection (each reconnect too)' -r
complete -c commander -n "__fish_commander_using_subcommand interactive" -l client-id -d 'Client id (default: commander- and a random suffix)' -r
complete -c commander -n "__fish_commander_using_subcommand interactive" -l keep-alive -d 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)' -r
complete -c commander -n "__fish_commander_using_subcommand interactive" -l qos -d 'Quality of service: 0, 1 or 2' -r
complete -c commander -n "__fish_commander_using_subcommand interactive" -s s -l schema -d 'Schema to load: a descriptor set, a .proto file or a directory of them' -r -F
complete -c commander -n "__fish_commander_using_subcommand interactive" -s I -l proto-path -l proto_path -d 'Import root for .proto files (repeatable)' -r -F
complete -c commander -n "__fish_commander_using_subcommand interactive" -l profile -d 'Profile: schema, command and response types, header defaults, MQTT' -r -F
complete -c commander -n "__fish_commander_using_subcommand interactive" -s q -l quiet -d 'Leave out notes on stderr (such as which commander.toml is in effect)'
complete -c commander -n "__fish_commander_using_subcommand interactive" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c commander -n "__fish_commander_using_subcommand encode" -s m -l message -d 'Message type to encode (full name or unique short name)' -r
complete -c commander -n "__fish_commander_using_subcommand encode" -l json -d 'The message as JSON (proto3 JSON mapping)' -r
complete -c commander -n "__fish_commander_using_subcommand encode" -l text -d 'The message in protobuf text format' -r
complete -c commander -n "__fish_commander_using_subcommand encode" -l file -d 'Read from PATH (\'-\' for stdin), as for decode' -r -F
complete -c commander -n "__fish_commander_using_subcommand encode" -s i -l input -d 'What FILE or stdin holds' -r -f -a "auto\t'JSON if the input starts with \'{\', else text format'
json\t''
text\t''"
complete -c commander -n "__fish_commander_using_subcommand encode" -s f -l format -d 'Output format' -r -f -a "hex\t'Lowercase hex, one message per line'
base64\t'Standard base64, one message per line'
binary\t'Raw bytes (see --framing)'"
complete -c commander -n "__fish_commander_using_subcommand encode" -l framing -d 'Length prefix before each message' -r -f -a "none\t'No length prefix'
varint\t'Base-128 varint length (writeDelimitedTo / parseDelimitedFrom)'
u16be\t'2-byte big-endian length'
u32be\t'4-byte big-endian length'
u32le\t'4-byte little-endian length'"
complete -c commander -n "__fish_commander_using_subcommand encode" -l set -d 'Set a field after reading the input: FIELD.PATH=VALUE (repeatable)' -r
complete -c commander -n "__fish_commander_using_subcommand encode" -l bytes-as -d 'Accept the message carried in a bytes field as JSON: FIELD.PATH=TYPE' -r
complete -c commander -n "__fish_commander_using_subcommand encode" -s s -l schema -d 'Schema to load: a descriptor set, a .proto file or a directory of them' -r -F
complete -c commander -n "__fish_commander_using_subcommand encode" -s I -l proto-path -l proto_path -d 'Import root for .proto files (repeatable)' -r -F
complete -c commander -n "__fish_commander_using_subcommand encode" -l profile -d 'Profile: schema, command and response types, header defaults, MQTT' -r -F
complete -c commander -n "__fish_commander_using_subcommand encode" -l ignore-unknown -d 'Skip JSON keys that name no field of the type (and enum names it lacks) instead of refusing them'
complete -c commander -n "__fish_commander_using_subcommand encode" -l defaults -d 'First set the profile\'s header defaults (message ids, time, vehicle...)'
complete -c commander -n "__fish_commander_using_subcommand encode" -l strict -d 'Refuse a message that lacks a proto2 required field (default: warn)'
complete -c commander -n "__fish_commander_using_subcommand encode" -s q -l quiet -d 'Leave out notes on stderr (such as which commander.toml is in effect)'
complete -c commander -n "__fish_commander_using_subcommand encode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c commander -n "__fish_commander_using_subcommand decode" -s m -l message -d 'Message type to decode as (full name or unique short name)' -r
complete -c commander -n "__fish_commander_using_subcommand decode" -l file -d 'Read input from PATH (\'-\' for stdin) instead of literals' -r -F
complete -c commander -n "__fish_commander_using_subcommand decode" -s i -l input -d 'How the input is encoded' -r -f -a "auto\t'Hex if it looks like hex, else base64 if valid, else binary'
hex\t''
base64\t''
binary\t''"
complete -c commander -n "__fish_commander_using_subcommand decode" -l framing -d 'How messages are delimited in the input' -r -f -a "none\t'No length prefix'
varint\t'Base-128 varint length (writeDelimitedTo / parseDelimitedFrom)'
u16be\t'2-byte big-endian length'
u32be\t'4-byte big-endian length'
u32le\t'4-byte little-endian length'"
complete -c commander -n "__fish_commander_using_subcommand decode" -s o -l output -d 'Output format' -r -f -a "table\t'Nested tables: field number, name, type, value'
json\t'Pretty JSON per message'
jsonl\t'One compact JSON object per line'
text\t'Protobuf text format'
hex\t'The message encoded again, canonically (fields in number order, unknown fields kept, last), as hex: binary in, binary out'
base64\t'The same as base64'"
complete -c commander -n "__fish_commander_using_subcommand decode" -l guess -d 'With --raw: which readings to offer beside the structure' -r -f -a "none\t'The structure only, as protoc --decode_raw shows it'
some\t'Plausible readings: floats in a sensible range, packed numbers that look like a device\'s array (not a key, nonce or UUID)'
all\t'Every reading that decodes'"
complete -c commander -n "__fish_commander_using_subcommand decode" -l width -d 'Draw tables no wider than N columns (0: no limit)' -r
complete -c commander -n "__fish_commander_using_subcommand decode" -l bytes-as -d 'Decode the message carried in a bytes field: FIELD.PATH=TYPE' -r
complete -c commander -n "__fish_commander_using_subcommand decode" -s s -l schema -d 'Schema to load: a descriptor set, a .proto file or a directory of them' -r -F
complete -c commander -n "__fish_commander_using_subcommand decode" -s I -l proto-path -l proto_path -d 'Import root for .proto files (repeatable)' -r -F
complete -c commander -n "__fish_commander_using_subcommand decode" -l profile -d 'Profile: schema, command and response types, header defaults, MQTT' -r -F
complete -c commander -n "__fish_commander_using_subcommand decode" -l raw -l decode_raw -d 'Decode without a schema, like protoc --decode_raw'
complete -c commander -n "__fish_commander_using_subcommand decode" -l emit-defaults -d 'Show fields that are at their default value too'
complete -c commander -n "__fish_commander_using_subcommand decode" -l camel-case -d 'JSON keys in lowerCamelCase instead of proto field names'
complete -c commander -n "__fish_commander_using_subcommand decode" -l no-unknown -d 'With -o text: leave unknown fields out (they are shown by number otherwise)'
complete -c commander -n "__fish_commander_using_subcommand decode" -l enum-numbers -d 'Enum values as numbers in JSON (as use_integers_for_enums)'
complete -c commander -n "__fish_commander_using_subcommand decode" -s q -l quiet -d 'Leave out notes on stderr (such as which commander.toml is in effect)'
complete -c commander -n "__fish_commander_using_subcommand decode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c commander -n "__fish_commander_using_subcommand list" -l filter -d 'Only names containing S (case-insensitive)' -r
complete -c commander -n "__fish_commander_using_subcommand list" -s s -l schema -d 'Schema to load: a descriptor set, a .proto file or a directory of them' -r -F
complete -c commander -n "__fish_commander_using_subcommand list" -s I -l proto-path -l proto_path -d 'Import root for .proto files (repeatable)' -r -F
complete -c commander -n "__fish_commander_using_subcommand list" -l profile -d 'Profile: schema, command and response types, header defaults, MQTT' -r -F
complete -c commander -n "__fish_commander_using_subcommand list" -l enums -d 'List enum types'
complete -c commander -n "__fish_commander_using_subcommand list" -l services -d 'List services'
complete -c commander -n "__fish_commander_using_subcommand list" -l all -d 'Include the well-known types (google.protobuf.*)'
complete -c commander -n "__fish_commander_using_subcommand list" -s q -l quiet -d 'Leave out notes on stderr (such as which commander.toml is in effect)'
complete -c commander -n "__fish_commander_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c commander -n "__fish_commander_using_subcommand describe" -s s -l schema -d 'Schema to load: a descriptor set, a .proto file or a directory of them' -r -F
complete -c commander -n "__fish_commander_using_subcommand describe" -s I -l proto-path -l proto_path -d 'Import root for .proto files (repeatable)' -r -F
complete -c commander -n "__fish_commander_using_subcommand describe" -l profile -d 'Profile: schema, command and response types, header defaults, MQTT' -r -F
complete -c commander -n "__fish_commander_using_subcommand describe" -s q -l quiet -d 'Leave out notes on stderr (such as which commander.toml is in effect)'
complete -c commander -n "__fish_commander_using_subcommand describe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c commander -n "__fish_commander_using_subcommand send" -s m -l message -d 'Message type to send (default: the profile\'s command type)' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l json -d 'The message as JSON (proto3 JSON mapping)' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l text -d 'The message in protobuf text format' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l file -d 'Read from PATH (\'-\' for stdin), as for decode' -r -F
complete -c commander -n "__fish_commander_using_subcommand send" -l set -d 'Set a field: FIELD.PATH=VALUE (repeatable, as for encode)' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l topic -d 'Topic to publish to (default: the profile\'s command_topic)' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l response-topic -d 'Topic the reply comes on (default: the profile\'s response_topic)' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l response-type -d 'Type of the reply (default: the profile\'s response type)' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l timeout -d 'How long to wait for the reply, like 10s or 500ms' -r
complete -c commander -n "__fish_commander_using_subcommand send" -s o -l output -d 'Output format of the reply' -r -f -a "table\t'Nested tables: field number, name, type, value'
json\t'Pretty JSON per message'
jsonl\t'One compact JSON object per line'
text\t'Protobuf text format'
hex\t'The message encoded again, canonically (fields in number order, unknown fields kept, last), as hex: binary in, binary out'
base64\t'The same as base64'"
complete -c commander -n "__fish_commander_using_subcommand send" -l width -d 'Draw tables no wider than N columns (0: no limit)' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l bytes-as -d 'Decode the message carried in a bytes field: FIELD.PATH=TYPE' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l broker -d 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l username -d 'Username' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l password -d 'Password (better from the environment: it is never printed)' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l ca -d 'CA certificate (PEM) to trust for mqtts:// instead of the system\'s roots' -r -F
complete -c commander -n "__fish_commander_using_subcommand send" -l cert -d 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)' -r -F
complete -c commander -n "__fish_commander_using_subcommand send" -l key -d 'Private key (PEM) of the client certificate' -r -F
complete -c commander -n "__fish_commander_using_subcommand send" -l connect-timeout -d 'How long the broker may take to accept a connection (each reconnect too)' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l client-id -d 'Client id (default: commander- and a random suffix)' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l keep-alive -d 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)' -r
complete -c commander -n "__fish_commander_using_subcommand send" -l qos -d 'Quality of service: 0, 1 or 2' -r
complete -c commander -n "__fish_commander_using_subcommand send" -s s -l schema -d 'Schema to load: a descriptor set, a .proto file or a directory of them' -r -F
complete -c commander -n "__fish_commander_using_subcommand send" -s I -l proto-path -l proto_path -d 'Import root for .proto files (repeatable)' -r -F
complete -c commander -n "__fish_commander_using_subcommand send" -l profile -d 'Profile: schema, command and response types, header defaults, MQTT' -r -F
complete -c commander -n "__fish_commander_using_subcommand send" -l ignore-unknown -d 'Skip JSON keys that name no field of the type (and enum names it lacks) instead of refusing them'
complete -c commander -n "__fish_commander_using_subcommand send" -l no-defaults -d 'Do not fill the header from the profile\'s defaults'
complete -c commander -n "__fish_commander_using_subcommand send" -l any-reply -d 'Take the first message on the response topic as the reply, even when there is no correlation_id or message_id to match it on'
complete -c commander -n "__fish_commander_using_subcommand send" -l no-reply -d 'Publish only: wait for the broker\'s acknowledgement, not for a reply'
complete -c commander -n "__fish_commander_using_subcommand send" -l enum-numbers -d 'Enum values as numbers in JSON (as use_integers_for_enums)'
complete -c commander -n "__fish_commander_using_subcommand send" -s q -l quiet -d 'Leave out notes on stderr (such as which commander.toml is in effect)'
complete -c commander -n "__fish_commander_using_subcommand send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c commander -n "__fish_commander_using_subcommand listen" -s m -l message -d 'Message type for topics without a --type or profile mapping' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l type -d 'Decode messages on topics matching FILTER as TYPE (repeatable)' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l topic -d 'Topic filter to subscribe to (repeatable; default: the profile\'s [mqtt.types] filters)' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -s o -l output -d 'Output format' -r -f -a "table\t'A title line (topic, time, type) and a table per message'
json\t'Pretty JSON per message, with its topic and time'
jsonl\t'One compact JSON object per message: topic, time, type, message'"
complete -c commander -n "__fish_commander_using_subcommand listen" -l count -d 'Stop after N messages' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l session -d 'Persistent session NAME (also the client id): messages sent while away arrive on return' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l share -d 'Share the subscriptions with other listeners in GROUP ($share/GROUP/FILTER)' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l guess -d 'With --raw: which readings to offer beside the structure' -r -f -a "none\t'The structure only, as protoc --decode_raw shows it'
some\t'Plausible readings: floats in a sensible range, packed numbers that look like a device\'s array (not a key, nonce or UUID)'
all\t'Every reading that decodes'"
complete -c commander -n "__fish_commander_using_subcommand listen" -l width -d 'Draw tables no wider than N columns (0: no limit)' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l bytes-as -d 'Decode the message carried in a bytes field: FIELD.PATH=TYPE' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l broker -d 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l username -d 'Username' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l password -d 'Password (better from the environment: it is never printed)' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l ca -d 'CA certificate (PEM) to trust for mqtts:// instead of the system\'s roots' -r -F
complete -c commander -n "__fish_commander_using_subcommand listen" -l cert -d 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)' -r -F
complete -c commander -n "__fish_commander_using_subcommand listen" -l key -d 'Private key (PEM) of the client certificate' -r -F
complete -c commander -n "__fish_commander_using_subcommand listen" -l connect-timeout -d 'How long the broker may take to accept a connection (each reconnect too)' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l client-id -d 'Client id (default: commander- and a random suffix)' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l keep-alive -d 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -l qos -d 'Quality of service: 0, 1 or 2' -r
complete -c commander -n "__fish_commander_using_subcommand listen" -s s -l schema -d 'Schema to load: a descriptor set, a .proto file or a directory of them' -r -F
complete -c commander -n "__fish_commander_using_subcommand listen" -s I -l proto-path -l proto_path -d 'Import root for .proto files (repeatable)' -r -F
complete -c commander -n "__fish_commander_using_subcommand listen" -l profile -d 'Profile: schema, command and response types, header defaults, MQTT' -r -F
complete -c commander -n "__fish_commander_using_subcommand listen" -l raw -d 'Decode without a schema, like protoc --decode_raw'
complete -c commander -n "__fish_commander_using_subcommand listen" -l enum-numbers -d 'Enum values as numbers in JSON (as use_integers_for_enums)'
complete -c commander -n "__fish_commander_using_subcommand listen" -s q -l quiet -d 'Leave out notes on stderr (such as which commander.toml is in effect)'
complete -c commander -n "__fish_commander_using_subcommand listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c commander -n "__fish_commander_using_subcommand simulate" -l vehicles -d 'How many devices, with ids from the profile\'s [simulate] ids template (default SIM{n:04})' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -l vehicle -d 'A device id to simulate (repeatable)' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -l fill -d 'Fields without a template: plausible values (random) or left unset (empty)' -r -f -a "random\t'Plausible values for every field'
empty\t'Only the header rules and the command\'s fields'"
complete -c commander -n "__fish_commander_using_subcommand simulate" -l delay -d 'Wait this long before each reply: a duration (200ms) or a range (100ms..2s)' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -l fail-rate -d 'Share of commands answered with the error return code (0 to 1)' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -l drop-rate -d 'Share of commands not answered at all (0 to 1), to test timeouts' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -l seed -d 'Seed for the random choices and values, for repeatable runs' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -s o -l output -d 'Log format on stderr: a line per event (text) or JSON Lines' -r -f -a "text\t'One line per event'
jsonl\t'One JSON object per event'"
complete -c commander -n "__fish_commander_using_subcommand simulate" -l broker -d 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -l username -d 'Username' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -l password -d 'Password (better from the environment: it is never printed)' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -l ca -d 'CA certificate (PEM) to trust for mqtts:// instead of the system\'s roots' -r -F
complete -c commander -n "__fish_commander_using_subcommand simulate" -l cert -d 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)' -r -F
complete -c commander -n "__fish_commander_using_subcommand simulate" -l key -d 'Private key (PEM) of the client certificate' -r -F
complete -c commander -n "__fish_commander_using_subcommand simulate" -l connect-timeout -d 'How long the broker may take to accept a connection (each reconnect too)' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -l client-id -d 'Client id (default: commander- and a random suffix)' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -l keep-alive -d 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -l qos -d 'Quality of service: 0, 1 or 2' -r
complete -c commander -n "__fish_commander_using_subcommand simulate" -s s -l schema -d 'Schema to load: a descriptor set, a .proto file or a directory of them' -r -F
complete -c commander -n "__fish_commander_using_subcommand simulate" -s I -l proto-path -l proto_path -d 'Import root for .proto files (repeatable)' -r -F
complete -c commander -n "__fish_commander_using_subcommand simulate" -l profile -d 'Profile: schema, command and response types, header defaults, MQTT' -r -F
complete -c commander -n "__fish_commander_using_subcommand simulate" -l no-publish -d 'Do not publish the profile\'s [[simulate.publish]] messages'
complete -c commander -n "__fish_commander_using_subcommand simulate" -s q -l quiet -d 'Only errors and the summary at exit'
complete -c commander -n "__fish_commander_using_subcommand simulate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c commander -n "__fish_commander_using_subcommand web" -s m -l message -d 'The message type the form starts with (default: the profile\'s command type)' -r
complete -c commander -n "__fish_commander_using_subcommand web" -l listen -d 'Address to serve the page on; anything but loopback requires a token' -r
complete -c commander -n "__fish_commander_using_subcommand web" -l token -d 'The token every request must carry (default: a random one when not on loopback)' -r
complete -c commander -n "__fish_commander_using_subcommand web" -l timeout -d 'How long a send waits for its reply' -r
complete -c commander -n "__fish_commander_using_subcommand web" -l broker -d 'Broker URL: mqtt://[user[:password]@]host:port, or mqtts://... for TLS' -r
complete -c commander -n "__fish_commander_using_subcommand web" -l username -d 'Username' -r
complete -c commander -n "__fish_commander_using_subcommand web" -l password -d 'Password (better from the environment: it is never printed)' -r
complete -c commander -n "__fish_commander_using_subcommand web" -l ca -d 'CA certificate (PEM) to trust for mqtts:// instead of the system\'s roots' -r -F
complete -c commander -n "__fish_commander_using_subcommand web" -l cert -d 'Client certificate (PEM), for brokers that require one (with --key; mqtts:// only)' -r -F
complete -c commander -n "__fish_commander_using_subcommand web" -l key -d 'Private key (PEM) of the client certificate' -r -F
complete -c commander -n "__fish_commander_using_subcommand web" -l connect-timeout -d 'How long the broker may take to accept a connection (each reconnect too)' -r
complete -c commander -n "__fish_commander_using_subcommand web" -l client-id -d 'Client id (default: commander- and a random suffix)' -r
complete -c commander -n "__fish_commander_using_subcommand web" -l keep-alive -d 'Keep-alive interval, in seconds (5 to 65535, as MQTT allows)' -r
complete -c commander -n "__fish_commander_using_subcommand web" -l qos -d 'Quality of service: 0, 1 or 2' -r
complete -c commander -n "__fish_commander_using_subcommand web" -s s -l schema -d 'Schema to load: a descriptor set, a .proto file or a directory of them' -r -F
complete -c commander -n "__fish_commander_using_subcommand web" -s I -l proto-path -l proto_path -d 'Import root for .proto files (repeatable)' -r -F
complete -c commander -n "__fish_commander_using_subcommand web" -l profile -d 'Profile: schema, command and response types, header defaults, MQTT' -r -F
complete -c commander -n "__fish_commander_using_subcommand web" -l open -d 'Open the page in the browser'
complete -c commander -n "__fish_commander_using_subcommand web" -l no-simulate -d 'With no broker given, start the embedded broker but no simulated vehicle'
complete -c commander -n "__fish_commander_using_subcommand web" -s q -l quiet -d 'Leave out notes on stderr (such as which commander.toml is in effect)'
complete -c commander -n "__fish_commander_using_subcommand web" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c commander -n "__fish_commander_using_subcommand completions" -s s -l schema -d 'Schema to load: a descriptor set, a .proto file or a directory of them' -r -F
complete -c commander -n "__fish_commander_using_subcommand completions" -s I -l proto-path -l proto_path -d 'Import root for .proto files (repeatable)' -r -F
complete -c commander -n "__fish_commander_using_subcommand completions" -l profile -d 'Profile: schema, command and response types, header defaults, MQTT' -r -F
complete -c commander -n "__fish_commander_using_subcommand completions" -s q -l quiet -d 'Leave out notes on stderr (such as which commander.toml is in effect)'
complete -c commander -n "__fish_commander_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c commander -n "__fish_commander_using_subcommand man" -s s -l schema -d 'Schema to load: a descriptor set, a .proto file or a directory of them' -r -F
complete -c commander -n "__fish_commander_using_subcommand man" -s I -l proto-path -l proto_path -d 'Import root for .proto files (repeatable)' -r -F
complete -c commander -n "__fish_commander_using_subcommand man" -l profile -d 'Profile: schema, command and response types, header defaults, MQTT' -r -F
complete -c commander -n "__fish_commander_using_subcommand man" -s q -l quiet -d 'Leave out notes on stderr (such as which commander.toml is in effect)'
complete -c commander -n "__fish_commander_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c commander -n "__fish_commander_using_subcommand help; and not __fish_seen_subcommand_from interactive encode decode list describe send listen simulate web completions man help" -f -a "interactive" -d 'Build command messages at prompts, see them encoded, decode replies (the default)'
complete -c commander -n "__fish_commander_using_subcommand help; and not __fish_seen_subcommand_from interactive encode decode list describe send listen simulate web completions man help" -f -a "encode" -d 'Encode JSON or text format into wire bytes'
complete -c commander -n "__fish_commander_using_subcommand help; and not __fish_seen_subcommand_from interactive encode decode list describe send listen simulate web completions man help" -f -a "decode" -d 'Decode wire bytes (hex, base64 or binary) into a table, JSON or text'
complete -c commander -n "__fish_commander_using_subcommand help; and not __fish_seen_subcommand_from interactive encode decode list describe send listen simulate web completions man help" -f -a "list" -d 'List the message types (and enums, services) of the schema'
complete -c commander -n "__fish_commander_using_subcommand help; and not __fish_seen_subcommand_from interactive encode decode list describe send listen simulate web completions man help" -f -a "describe" -d 'Show a message\'s fields, an enum\'s values or a service\'s methods'
complete -c commander -n "__fish_commander_using_subcommand help; and not __fish_seen_subcommand_from interactive encode decode list describe send listen simulate web completions man help" -f -a "send" -d 'Publish a command over MQTT and show the decoded reply'
complete -c commander -n "__fish_commander_using_subcommand help; and not __fish_seen_subcommand_from interactive encode decode list describe send listen simulate web completions man help" -f -a "listen" -d 'Decode every message on MQTT topics (a fleet\'s replies, telemetry, events)'
complete -c commander -n "__fish_commander_using_subcommand help; and not __fish_seen_subcommand_from interactive encode decode list describe send listen simulate web completions man help" -f -a "simulate" -d 'Simulated devices that answer commands and publish telemetry, from the schema alone'
complete -c commander -n "__fish_commander_using_subcommand help; and not __fish_seen_subcommand_from interactive encode decode list describe send listen simulate web completions man help" -f -a "web" -d 'The command form and live views in a browser (a local web page)'
complete -c commander -n "__fish_commander_using_subcommand help; and not __fish_seen_subcommand_from interactive encode decode list describe send listen simulate web completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c commander -n "__fish_commander_using_subcommand help; and not __fish_seen_subcommand_from interactive encode decode list describe send listen simulate web completions man help" -f -a "man" -d 'Print the man page (roff)'
complete -c commander -n "__fish_commander_using_subcommand help; and not __fish_seen_subcommand_from interactive encode decode list describe send listen simulate web completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
