// The model-independent part of the exported Python module: one training step, the .npz reader
// (netc's data layout), safetensors in and out, and the torchrun entry point. Standard library and
// torch only; the model's part (INPUTS, TARGETS, TRAIN, criterion, optimizer) comes before it.
export const torchMain = String.raw`
def train_step(model, opt, inputs, targets):
    """One update, as netc's trainStep: the loss of the batch, its gradients (averaged over the
    processes by DistributedDataParallel), clipped by their norm when the train block says so."""
    opt.zero_grad()
    loss = criterion(model(*inputs), targets)
    loss.backward()
    if CLIP_GRAD_NORM is not None:
        params = [p for p in model.parameters() if p.requires_grad]
        torch.nn.utils.clip_grad_norm_(params, CLIP_GRAD_NORM)
    opt.step()
    return loss.item()


# The .npz layout netc reads (docs/data.md) and writes (netc data FILE.net --out F.npz):
# x_train, y_train (y_train_<output> with several outputs), x_test, y_test.
_NPY_DTYPES = {
    "b1": torch.bool, "u1": torch.uint8, "i1": torch.int8, "i2": torch.int16, "i4": torch.int32,
    "i8": torch.int64, "f2": torch.float16, "f4": torch.float32, "f8": torch.float64,
}


def read_npy(data, where):
    """A .npy array (little-endian, C order) as a tensor."""
    if data[:6] != b"\x93NUMPY":
        raise SystemExit(f"{where} is not a .npy array")
    size, start = (struct.unpack("<H", data[8:10])[0], 10) if data[6] == 1 else (
        struct.unpack("<I", data[8:12])[0], 12)
    header = ast.literal_eval(data[start:start + size].decode("latin1"))
    descr, shape = header["descr"], tuple(header["shape"])
    dtype = _NPY_DTYPES.get(descr[1:]) if descr[:1] in "<|" else None
    if dtype is None or header["fortran_order"]:
        raise SystemExit(f"{where} holds dtype {descr}{' in Fortran order' if header['fortran_order'] else ''}: "
                         "this script reads bool, uint8, int8-64 and float16-64 arrays, little-endian, in C order")
    count = math.prod(shape)
    if count == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(data[start + size:]), dtype=dtype, count=count).reshape(shape)


def read_npz(path):
    """The arrays of a .npz file (numpy's savez: a zip of .npy files), by name."""
    with zipfile.ZipFile(path) as z:
        return {name[:-4]: read_npy(z.read(name), f"{name} in {path}")
                for name in z.namelist() if name.endswith(".npy")}


def _sample_shape(t, shape, where):
    """t as [N, *shape]: the same values, dimensions of 1 aside, or an image stored channels last."""
    n = t.shape[0]
    if math.prod(t.shape[1:]) != math.prod(shape):
        raise SystemExit(f"{where} has samples of shape {list(t.shape[1:])}, not {list(shape)}")
    if len(shape) == 3 and list(t.shape[1:]) == [shape[1], shape[2], shape[0]] and shape[0] > 1:
        return t.permute(0, 3, 1, 2).contiguous()
    return t.reshape(n, *shape)


def dataset(arrays, part, path):
    """The inputs and targets of the part ("train" or "test") in netc's layout, or None. uint8
    inputs are pixels, divided by 255, as netc reads them."""
    x = arrays.get(f"x_{part}")
    if x is None:
        return None
    (name, shape), = INPUTS.items()
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    x = _sample_shape(x, shape, f"x_{part} in {path}")
    targets = {}
    for output, (shape, kind) in TARGETS.items():
        keys = [f"y_{part}_{output}"] + ([f"y_{part}"] if len(TARGETS) == 1 else [])
        y = next((arrays[k] for k in keys if k in arrays), None)
        if y is None and kind == "values" and list(shape) == list(x.shape[1:]):
            y = x  # an autoencoder's target is its input
        if y is None:
            raise SystemExit(f"{path} has no {' or '.join(keys)}")
        y = y.long() if kind == "classes" else y.float()
        targets[output] = _sample_shape(y, shape, f"{keys[0]} in {path}")
    return x, targets


def pick(targets, index):
    """The targets of the samples at index: a tensor with one output, a dict with several."""
    if len(TARGETS) == 1:
        return next(iter(targets.values()))[index]
    return {k: v[index] for k, v in targets.items()}


def augment(x, targets, draws):
    """AUGMENT on each sample, in place, as netc's: a RandomCrop shifts the image by (dy, dx),
    zeros coming in (torchvision's crop of the zero-padded image), a flip mirrors it; per-pixel
    targets (maps of the image's size) move with it. draws: a sample's draws per row."""
    planes = [x] + [t for t in (targets.values() if isinstance(targets, dict) else [targets])
                    if t.dim() >= 3 and t.shape[-2:] == x.shape[-2:]]
    height, width = x.shape[-2:]
    for k, row in enumerate(draws.tolist()):
        for (name, arg), (dy, dx, flip) in zip(AUGMENT, row):
            dy, dx = int(dy), int(dx)
            for t in planes:
                if name == "RandomCrop" and (dy or dx):
                    padded = F.pad(t[k], (arg, arg, arg, arg))
                    t[k] = padded[..., arg + dy:arg + dy + height, arg + dx:arg + dx + width]
                elif name == "RandomHorizontalFlip" and flip < arg:
                    t[k] = t[k].flip(-1)


def augment_draws(count, generator):
    """Each sample's draws for each AUGMENT step: a crop's offsets, a flip's uniform number."""
    draws = torch.zeros(count, len(AUGMENT), 3)
    for i, (name, arg) in enumerate(AUGMENT):
        if name == "RandomCrop":
            draws[:, i, :2] = torch.randint(-arg, arg + 1, (count, 2), generator=generator).float()
        else:
            draws[:, i, 2] = torch.rand(count, generator=generator)
    return draws


# safetensors: an 8-byte little-endian header length, the JSON header, then the raw bytes.
_ST_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16}


def save_safetensors(path, tensors):
    """Writes float32 tensors under their names (netc eval --weights reads them), atomically."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        blob = t.detach().to(torch.float32).contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    partial = f"{path}.partial"
    with open(partial, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for blob in blobs:
            f.write(blob)
    os.replace(partial, path)


def load_safetensors(path):
    """The float tensors of a safetensors file (netc train --save writes them), by name."""
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    header.pop("__metadata__", None)
    tensors = {}
    for name, entry in header.items():
        dtype = _ST_DTYPES.get(entry["dtype"])
        if dtype is None:
            raise SystemExit(f"{path}: {name} has dtype {entry['dtype']}, not a float")
        begin, end = entry["data_offsets"]
        raw = bytearray(data[8 + size + begin:8 + size + end])
        count = math.prod(entry["shape"])
        t = torch.frombuffer(raw, dtype=dtype, count=count) if count else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(entry["shape"]).float()
    return tensors


def evaluate(model, data):
    """The loss over a data set in evaluation mode (a mean over samples) and, for one class
    target, the accuracy."""
    x, targets = data
    model.eval()
    total, correct, counted = 0.0, 0, 0
    (output, (_, kind)), = list(TARGETS.items())[:1]
    with torch.no_grad():
        for start in range(0, len(x), TRAIN["batch"]):
            index = torch.arange(start, min(start + TRAIN["batch"], len(x)))
            outputs = model(x[index])
            total += criterion(outputs, pick(targets, index)).item() * len(index)
            if kind == "classes" and len(TARGETS) == 1 and len(OUTPUTS) == 1:
                t = targets[output][index]
                keep = t != IGNORE if IGNORE is not None else torch.ones_like(t, dtype=torch.bool)
                correct += (outputs.argmax(1) == t)[keep].sum().item()
                counted += keep.sum().item()
    accuracy = f" accuracy {100 * correct / counted:.2f}%" if counted else ""
    return f"loss {total / len(x):.4f}{accuracy}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=f"Trains {MODEL.__name__} as netc's train block says, "
                                     "on one process or several (torchrun --nproc_per_node=K).")
    parser.add_argument("--data", required=True, help="a .npz in netc's layout (netc data FILE.net --out F.npz)")
    parser.add_argument("--save", help="write the trained weights here (safetensors, for netc eval --weights)")
    parser.add_argument("--init", help="start from these weights (safetensors, as netc train --save writes them)")
    parser.add_argument("--epochs", type=int, default=TRAIN["epochs"])
    parser.add_argument("--batch", type=int, default=TRAIN["batch"], help="the global batch, split between the processes")
    parser.add_argument("--lr", type=float, default=LR)
    parser.add_argument("--seed", type=int, default=TRAIN["seed"])
    args = parser.parse_args(argv)
    if len(INPUTS) != 1:
        raise SystemExit(f"{MODEL.__name__} has inputs {', '.join(INPUTS)}: netc's data sets feed one input")
    TRAIN["batch"] = args.batch
    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        torch.distributed.init_process_group("gloo")
    rank = torch.distributed.get_rank() if distributed else 0
    world = torch.distributed.get_world_size() if distributed else 1
    if args.batch % world:
        raise SystemExit(f"the batch {args.batch} does not split evenly between {world} processes")
    torch.manual_seed(args.seed)
    model = MODEL()
    if args.init:
        model.load_state_dict(load_safetensors(args.init))
    net = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    opt, scheduler = optimizer(model, args.lr)
    arrays = read_npz(args.data)
    train, test = dataset(arrays, "train", args.data), dataset(arrays, "test", args.data)
    if train is None:
        raise SystemExit(f"{args.data} has no x_train")
    x, targets = train
    steps, local = len(x) // args.batch, args.batch // world
    if steps == 0:
        raise SystemExit(f"{args.data} has {len(x)} training samples, fewer than a batch of {args.batch}")
    if rank == 0:
        print(f"{MODEL.__name__}: {len(x)} training samples, batch {args.batch} on {world} process"
              f"{'es' if world > 1 else ''}, {args.epochs} epochs")
    order = torch.Generator().manual_seed(args.seed)
    for epoch in range(1, args.epochs + 1):
        # Every process draws the same order and takes its share of each batch: the averaged
        # gradients are those of the whole batch. Full batches only, as netc trains.
        perm = torch.randperm(len(x), generator=order)
        net.train()
        total = 0.0
        for step in range(steps):
            mine = slice(rank * local, (rank + 1) * local)
            index = perm[step * args.batch:(step + 1) * args.batch][mine]
            inputs, batch_targets = x[index], pick(targets, index)
            if AUGMENT:
                # Drawn for the whole batch on every process, as one process would draw them.
                augment(inputs, batch_targets, augment_draws(args.batch, order)[mine])
            total += train_step(net, opt, [inputs], batch_targets)
        if scheduler is not None:
            scheduler.step()
        loss = torch.tensor(total / steps)
        if distributed:
            torch.distributed.all_reduce(loss)
        if rank == 0:
            line = f"epoch {epoch}/{args.epochs}: train loss {loss.item() / world:.4f}"
            print(line + (f", test {evaluate(model, test)}" if test is not None else ""), flush=True)
    if rank == 0 and args.save:
        save_safetensors(args.save, model.state_dict())
    if distributed:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
`;
