# kith's built-in `lib`: the part of nixpkgs' lib that clan service and inventory modules
# commonly use, written by kith and used only when the clan's nixpkgs is locked but in no
# store (see `builtin_lib.rs`). Every function here gives what nixpkgs' gives (the
# differential test `inventory/tests/builtin_lib.rs` compares them); every other name of
# nixpkgs' lib is present and aborts (uncatchable: nixpkgs would not fail there), naming itself.
#
# `names`: the attribute names of nixpkgs' lib and of the namespaces given here, per
# namespace (`names.json`).
names:
let
  b = builtins;

  missing =
    name:
    b.abort "lib.${name} is not available: the clan's nixpkgs is not in the store, and kith's built-in lib does not provide `${name}' (fetch nixpkgs, e.g. with `nix flake archive`, to use it)";

  # Namespace `ns` (a key of `names`, shown as `prefix`): every name nixpkgs has there,
  # those kith does not provide throwing.
  complete =
    ns: prefix: own:
    b.listToAttrs (
      b.map (n: {
        name = n;
        value = missing "${prefix}${n}";
      }) names.${ns}
    )
    // own;

  assertMsg = pred: msg: pred || b.throw msg;

  # lists
  optional = cond: elem: if cond then [ elem ] else [ ];
  optionals = cond: elems: if cond then elems else [ ];
  toList = x: if b.isList x then x else [ x ];
  flatten = x: if b.isList x then b.concatMap flatten x else [ x ];
  unique = b.foldl' (acc: e: if b.elem e acc then acc else acc ++ [ e ]) [ ];
  foldr =
    op: nul: list:
    let
      len = b.length list;
      go = n: if n == len then nul else op (b.elemAt list n) (go (n + 1));
    in
    go 0;
  foldl =
    op: nul: list:
    let
      go = n: if n == -1 then nul else op (go (n - 1)) (b.elemAt list n);
    in
    go (b.length list - 1);
  last =
    list:
    assert assertMsg (list != [ ]) "lists.last: list must not be empty!";
    b.elemAt list (b.length list - 1);
  sublist =
    start: count: list:
    let
      len = b.length list;
    in
    b.genList (n: b.elemAt list (n + start)) (
      if start >= len then
        0
      else if start + count > len then
        len - start
      else
        count
    );
  take = count: sublist 0 count;
  drop = count: list: sublist count (b.length list) list;
  init =
    list:
    assert assertMsg (list != [ ]) "lists.init: list must not be empty!";
    take (b.length list - 1) list;
  imap0 = f: list: b.genList (n: f n (b.elemAt list n)) (b.length list);
  imap1 = f: list: b.genList (n: f (n + 1) (b.elemAt list n)) (b.length list);
  range =
    first: last': if first > last' then [ ] else b.genList (n: first + n) (last' - first + 1);
  count = pred: b.foldl' (c: x: if pred x then c + 1 else c) 0;
  reverseList =
    xs:
    let
      l = b.length xs;
    in
    b.genList (n: b.elemAt xs (l - n - 1)) l;
  remove = e: b.filter (x: x != e);
  subtractLists = e: b.filter (x: !(b.elem x e));
  intersectLists = e: b.filter (x: b.elem x e);

  # attribute sets
  nameValuePair = name: value: { inherit name value; };
  mapAttrs' = f: set: b.listToAttrs (b.map (attr: f attr set.${attr}) (b.attrNames set));
  mapAttrsToList = f: attrs: b.map (name: f name attrs.${name}) (b.attrNames attrs);
  filterAttrs =
    pred: set: b.removeAttrs set (b.filter (name: !pred name set.${name}) (b.attrNames set));
  genAttrs = names': f: b.listToAttrs (b.map (n: nameValuePair n (f n)) names');
  optionalAttrs = cond: as: if cond then as else { };
  recursiveUpdateUntil =
    pred: lhs: rhs:
    let
      f =
        attrPath:
        b.zipAttrsWith (
          n: values:
          let
            here = attrPath ++ [ n ];
          in
          if b.length values == 1 || pred here (b.elemAt values 1) (b.head values) then
            b.head values
          else
            f here values
        );
    in
    f [ ] [
      rhs
      lhs
    ];
  recursiveUpdate =
    lhs: rhs:
    recursiveUpdateUntil (
      path: lhs: rhs:
      !(b.isAttrs lhs && b.isAttrs rhs)
    ) lhs rhs;
  attrByPath =
    attrPath: default: set:
    let
      len = b.length attrPath;
      go =
        n: s:
        if n == len then
          s
        else
          let
            attr = b.elemAt attrPath n;
          in
          if s ? ${attr} then go (n + 1) s.${attr} else default;
    in
    go 0 set;
  hasAttrByPath =
    attrPath: e:
    let
      len = b.length attrPath;
      go =
        n: s:
        if n == len then
          true
        else
          let
            attr = b.elemAt attrPath n;
          in
          if s ? ${attr} then go (n + 1) s.${attr} else false;
    in
    go 0 e;
  getAttrFromPath =
    attrPath: set:
    attrByPath attrPath (b.abort (
      "cannot find attribute '" + b.concatStringsSep "." attrPath + "'"
    )) set;
  setAttrByPath =
    attrPath: value:
    let
      len = b.length attrPath;
      atDepth = n: if n == len then value else { ${b.elemAt attrPath n} = atDepth (n + 1); };
    in
    atDepth 0;
  zipAttrs = b.zipAttrsWith (name: values: values);

  # strings
  concatStrings = b.concatStringsSep "";
  concatMapStrings = f: list: concatStrings (b.map f list);
  concatMapStringsSep =
    sep: f: list:
    b.concatStringsSep sep (b.map f list);
  optionalString = cond: string: if cond then string else "";
  hasSuffix =
    suffix: content:
    let
      lenContent = b.stringLength content;
      lenSuffix = b.stringLength suffix;
    in
    lenContent >= lenSuffix && b.substring (lenContent - lenSuffix) lenContent content == suffix;
  escapeNixString = s: b.replaceStrings [ "$" ] [ "\\$" ] (b.toJSON s);

  # trivial
  id = x: x;
  const = x: y: x;
  flip =
    f: a: b':
    f b' a;
  boolToString = v: if v then "true" else "false";
  isFunction = f: b.isFunction f || (f ? __functor && isFunction (f.__functor f));
  isStringLike = x: b.isString x || b.isPath x || x ? outPath || x ? __toString;
  throwIf = cond: msg: if cond then b.throw msg else x: x;
  throwIfNot = cond: msg: if cond then x: x else b.throw msg;

  # options and modules
  mkOption =
    {
      default ? null,
      defaultText ? null,
      example ? null,
      description ? null,
      relatedPackages ? null,
      type ? null,
      apply ? null,
      internal ? null,
      visible ? null,
      readOnly ? null,
    }@attrs:
    attrs // { _type = "option"; };
  mkEnableOption =
    name:
    mkOption {
      default = false;
      example = true;
      description = "Whether to enable ${name}.";
      type = types.bool;
    };
  mkIf = condition: content: {
    _type = "if";
    inherit condition content;
  };
  mkMerge = contents: {
    _type = "merge";
    inherit contents;
  };
  mkOverride = priority: content: {
    _type = "override";
    inherit priority content;
  };
  mkOrder = priority: content: {
    _type = "order";
    inherit priority content;
  };
  modules = {
    inherit mkIf mkMerge mkOverride mkOrder;
    mkOptionDefault = mkOverride 1500;
    mkDefault = mkOverride 1000;
    mkImageMediaOverride = mkOverride 60;
    mkForce = mkOverride 50;
    mkVMOverride = mkOverride 10;
    defaultOverridePriority = 100;
    mkBefore = mkOrder 500;
    mkAfter = mkOrder 1500;
    defaultOrderPriority = 1000;
  };

  # types: the fields kith reads (name, description, descriptionClass, check, nestedTypes,
  # getSubModules, functor.payload) as nixpkgs gives them; merge functions are nixpkgs'
  # module system's, which kith implements natively.
  optionType =
    path:
    {
      name,
      description ? null,
      descriptionClass ? null,
      check ? (x: true),
      emptyValue ? { },
      getSubModules ? null,
      functor ? {
        inherit name;
        type = types.${name} or null;
        payload = null;
        binOp = a: b': null;
      },
      nestedTypes ? { },
    }:
    {
      _type = "option-type";
      inherit
        name
        check
        emptyValue
        getSubModules
        nestedTypes
        descriptionClass
        functor
        ;
      description = if description == null then name else description;
      deprecationMessage = null;
      merge = missing "${path}.merge";
      getSubOptions = missing "${path}.getSubOptions";
      substSubModules = missing "${path}.substSubModules";
      typeMerge = missing "${path}.typeMerge";
    };
  phrase =
    ok: t: if ok (t.descriptionClass or null) then t.description else "(${t.description})";
  coherent = f: {
    __functor = _: f;
    isV2MergeCoherent = true;
  };
  addCheck = t: check: t // { check = x: t.check x && check x; };
  elemFunctor = name: payload: {
    inherit name payload;
    type = types.${name};
    binOp = missing "types.${name}.functor.binOp";
  };
  intsBetween =
    lowest: highest:
    assert assertMsg (lowest <= highest) "ints.between: lowest must be smaller than highest";
    addCheck types.int (x: x >= lowest && x <= highest)
    // {
      name = "intBetween";
      description = "integer between ${toString lowest} and ${toString highest} (both inclusive)";
    };
  intsNamed =
    lowest: highest: name: start:
    intsBetween lowest highest
    // {
      inherit name;
      description = "${start}; between ${toString lowest} and ${toString highest} (both inclusive)";
    };
  unsignedBits =
    bits: size:
    intsNamed 0 (size - 1) "unsignedInt${toString bits}" "${toString bits} bit unsigned integer";
  signedBits =
    bits: size:
    intsNamed (0 - size / 2) (size / 2 - 1) "signedInt${toString bits}"
      "${toString bits} bit signed integer";
  attrsWith =
    lazy: elemType:
    optionType "types.${if lazy then "lazyAttrsOf" else "attrsOf"}" {
      name = if lazy then "lazyAttrsOf" else "attrsOf";
      description =
        (if lazy then "lazy attribute set" else "attribute set")
        + " of ${phrase (c: c == "noun" || c == "composite") elemType}";
      descriptionClass = "composite";
      check = coherent b.isAttrs;
      emptyValue.value = { };
      getSubModules = elemType.getSubModules;
      functor = elemFunctor "attrsWith" {
        inherit elemType lazy;
        placeholder = "name";
      };
      nestedTypes.elemType = elemType;
    };
  submoduleWith =
    {
      modules,
      specialArgs ? { },
      shorthandOnlyDefinesConfig ? false,
      description ? null,
      class ? null,
    }:
    optionType "types.submoduleWith" {
      name = "submodule";
      # Without a freeform type (which only evaluating the modules finds, unless they
      # are attribute sets that only declare options), nixpkgs' description is the name.
      description =
        if description != null then
          description
        else if
          b.all (
            m:
            b.isAttrs m
            && b.all (n: b.elem n [
              "options"
              "_file"
              "key"
              "_class"
            ]) (b.attrNames m)
          ) modules
        then
          "submodule"
        else
          missing "types.submodule's description (it needs nixpkgs' module system)";
      check = coherent (x: b.isAttrs x || b.isFunction x || types.path.check x);
      getSubModules = modules;
      emptyValue.value = missing "types.submodule's emptyValue";
      functor = {
        name = "submodule";
        type = types.submoduleWith;
        payload = {
          inherit
            modules
            class
            specialArgs
            shorthandOnlyDefinesConfig
            description
            ;
        };
        binOp = missing "types.submoduleWith.functor.binOp";
      };
    };
  strMatching =
    pattern:
    optionType "types.strMatching" {
      name = "strMatching ${escapeNixString pattern}";
      description = "string matching the pattern ${pattern}";
      descriptionClass = "noun";
      check = x: types.str.check x && b.match pattern x != null;
      functor = {
        name = "strMatching";
        type = strMatching;
        payload = { inherit pattern; };
        binOp = lhs: rhs: if lhs == rhs then lhs else null;
      };
    };
  types = complete "types" "types." {
    raw = optionType "types.raw" {
      name = "raw";
      description = "raw value";
      descriptionClass = "noun";
      check = value: true;
    };
    anything = optionType "types.anything" {
      name = "anything";
      description = "anything";
      descriptionClass = "noun";
      check = value: true;
    };
    bool = optionType "types.bool" {
      name = "bool";
      description = "boolean";
      descriptionClass = "noun";
      check = b.isBool;
    };
    int = optionType "types.int" {
      name = "int";
      description = "signed integer";
      descriptionClass = "noun";
      check = b.isInt;
    };
    ints = complete "ints" "types.ints." {
      between = intsBetween;
      unsigned = addCheck types.int (x: x >= 0) // {
        name = "unsignedInt";
        description = "unsigned integer, meaning >=0";
        descriptionClass = "nonRestrictiveClause";
      };
      positive = addCheck types.int (x: x > 0) // {
        name = "positiveInt";
        description = "positive integer, meaning >0";
        descriptionClass = "nonRestrictiveClause";
      };
      u8 = unsignedBits 8 256;
      u16 = unsignedBits 16 65536;
      u32 = unsignedBits 32 4294967296;
      s8 = signedBits 8 256;
      s16 = signedBits 16 65536;
      s32 = signedBits 32 4294967296;
    };
    port = types.ints.u16;
    float = optionType "types.float" {
      name = "float";
      description = "floating point number";
      descriptionClass = "noun";
      check = b.isFloat;
    };
    str = optionType "types.str" {
      name = "str";
      description = "string";
      descriptionClass = "noun";
      check = b.isString;
    };
    nonEmptyStr = optionType "types.nonEmptyStr" {
      name = "nonEmptyStr";
      description = "non-empty string";
      descriptionClass = "noun";
      check = x: types.str.check x && b.match "[ \t\n]*" x == null;
    };
    inherit strMatching;
    attrs = optionType "types.attrs" {
      name = "attrs";
      description = "attribute set";
      check = b.isAttrs;
      emptyValue.value = { };
    };
    path = optionType "types.path" {
      name = "path";
      description = "absolute path";
      descriptionClass = "noun";
      check = x: isStringLike x && b.substring 0 1 (toString x) == "/";
      functor = {
        name = "path";
        type = missing "types.pathWith";
        payload = {
          inStore = null;
          absolute = true;
        };
        binOp = lhs: rhs: if lhs == rhs then lhs else null;
      };
    };
    enum =
      values:
      let
        show =
          v:
          if b.isString v then
            ''"${v}"''
          else if b.isInt v then
            toString v
          else if b.isBool v then
            boolToString v
          else
            "<${b.typeOf v}>";
      in
      optionType "types.enum" {
        name = "enum";
        description =
          if values == [ ] then
            "impossible (empty enum)"
          else if b.length values == 1 then
            "value ${show (b.head values)} (singular enum)"
          else
            "one of ${concatMapStringsSep ", " show values}";
        descriptionClass = if b.length values < 2 then "noun" else "conjunction";
        check = flip b.elem values;
        functor = {
          name = "enum";
          type = types.enum;
          payload = { inherit values; };
          binOp = a: b': { values = unique (a.values ++ b'.values); };
        };
      };
    listOf =
      elemType:
      optionType "types.listOf" {
        name = "listOf";
        description = "list of ${phrase (c: c == "noun" || c == "composite") elemType}";
        descriptionClass = "composite";
        check = coherent b.isList;
        emptyValue.value = [ ];
        getSubModules = elemType.getSubModules;
        functor = elemFunctor "listOf" { inherit elemType; };
        nestedTypes.elemType = elemType;
      };
    attrsOf = attrsWith false;
    lazyAttrsOf = attrsWith true;
    nullOr =
      elemType:
      optionType "types.nullOr" {
        name = "nullOr";
        description = "null or ${phrase (c: c == "noun" || c == "conjunction") elemType}";
        descriptionClass = "conjunction";
        check = x: x == null || elemType.check x;
        emptyValue.value = null;
        getSubModules = elemType.getSubModules;
        functor = elemFunctor "nullOr" { inherit elemType; };
        nestedTypes.elemType = elemType;
      };
    inherit submoduleWith;
    submodule =
      modules:
      submoduleWith {
        shorthandOnlyDefinesConfig = true;
        modules = toList modules;
      };
    deferredModule = optionType "types.deferredModule" {
      name = "deferredModule";
      description = "module";
      descriptionClass = "noun";
      check = x: b.isAttrs x || b.isFunction x || types.path.check x;
      getSubModules = [ ];
      functor = {
        name = "deferredModuleWith";
        type = missing "types.deferredModuleWith";
        payload.staticModules = [ ];
        binOp = missing "types.deferredModuleWith.functor.binOp";
      };
    };
  };

  own = {
    inherit
      assertMsg
      optional
      optionals
      toList
      flatten
      unique
      foldr
      foldl
      last
      sublist
      take
      drop
      init
      imap0
      imap1
      range
      count
      reverseList
      remove
      subtractLists
      intersectLists
      ;
    inherit
      nameValuePair
      mapAttrs'
      mapAttrsToList
      filterAttrs
      genAttrs
      optionalAttrs
      recursiveUpdateUntil
      recursiveUpdate
      attrByPath
      hasAttrByPath
      getAttrFromPath
      setAttrByPath
      zipAttrs
      ;
    inherit
      concatStrings
      concatMapStrings
      concatMapStringsSep
      optionalString
      hasSuffix
      escapeNixString
      ;
    inherit
      id
      const
      flip
      boolToString
      isFunction
      isStringLike
      throwIf
      throwIfNot
      ;
    inherit (b)
      attrNames
      attrValues
      hasAttr
      getAttr
      mapAttrs
      listToAttrs
      removeAttrs
      intersectAttrs
      catAttrs
      zipAttrsWith
      concatMap
      concatLists
      concatStringsSep
      elem
      elemAt
      head
      tail
      length
      filter
      map
      any
      all
      genList
      sort
      foldl'
      isAttrs
      isList
      isString
      isInt
      isBool
      isFloat
      isPath
      stringLength
      substring
      replaceStrings
      typeOf
      ;
    inherit mkOption mkEnableOption types;
    inherit (modules)
      mkIf
      mkMerge
      mkOverride
      mkOrder
      mkOptionDefault
      mkDefault
      mkImageMediaOverride
      mkForce
      mkVMOverride
      defaultOverridePriority
      mkBefore
      mkAfter
      defaultOrderPriority
      ;
  };

  # `own`'s functions that nixpkgs has in namespace `ns`.
  pick =
    ns: extra:
    b.intersectAttrs (b.listToAttrs (b.map (n: nameValuePair n null) names.${ns})) (own // extra);
in
complete "lib" "" (
  pick "lib" {
    attrsets = complete "attrsets" "attrsets." (pick "attrsets" { });
    lists = complete "lists" "lists." (pick "lists" { });
    strings = complete "strings" "strings." (pick "strings" { });
    trivial = complete "trivial" "trivial." (pick "trivial" { });
    options = complete "options" "options." (pick "options" { });
    modules = complete "modules" "modules." (pick "modules" modules);
  }
)
